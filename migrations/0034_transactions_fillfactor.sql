-- Every TransactionEvent updates its transaction's row. With room left on each page the
-- update stays on the page (a HOT update) and touches none of the four indexes; full pages
-- forced a third of the updates to insert into every index.
ALTER TABLE transactions SET (fillfactor = 70);
