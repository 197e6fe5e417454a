import { describe, expect, it } from '@jest/globals';
import { preferredWait } from '../../lib/http/prefer-wait.js';

describe('preferredWait (Prefer: wait, RFC 7240)', () => {
  it('takes the client’s seconds when they are under the server’s cap', () => {
    expect(preferredWait('wait=5', 30_000)).toBe(5_000);
    expect(preferredWait('respond-async, wait=2', 30_000)).toBe(2_000);
    expect(preferredWait(['return=minimal', 'Wait="3"'], 30_000)).toBe(3_000);
    expect(preferredWait('wait=0', 30_000)).toBe(0);
  });

  it('keeps the server’s cap when the client asks for more, or nothing', () => {
    expect(preferredWait('wait=600', 30_000)).toBe(30_000);
    expect(preferredWait(undefined, 30_000)).toBe(30_000);
    expect(preferredWait('return=representation', 30_000)).toBe(30_000);
  });

  it('never waits when the server does not, whatever the client asks', () => {
    expect(preferredWait('wait=10', 0)).toBe(0);
  });

  it('ignores a malformed wait preference', () => {
    for (const header of ['wait=', 'wait=-1', 'wait=1.5', 'wait=abc', 'wait', 'wait=99999999999']) {
      expect([header, preferredWait(header, 30_000)]).toEqual([header, 30_000]);
    }
  });
});
