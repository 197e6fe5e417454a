/** The table the nestjs-cls test app writes to (created by the test, before the app starts). */
export const CLS_ORDERS_DDL = 'CREATE TABLE IF NOT EXISTS cls_orders (id serial PRIMARY KEY, item text NOT NULL)';
