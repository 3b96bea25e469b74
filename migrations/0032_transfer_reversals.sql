-- A transfer to a host reversed at the provider (`transfer.reversed`): what came back is
-- owed to the host again. `amount_reversed` only grows (the provider's cumulative figure);
-- each growth is posted once (host payable ← provider clearing, key
-- `transfer_reversal:<transfer>:<cumulative amount>`).
ALTER TABLE host_transfers ADD COLUMN amount_reversed bigint NOT NULL DEFAULT 0;
ALTER TABLE host_transfers ADD CONSTRAINT host_transfers_reversed_check
    CHECK (amount_reversed >= 0 AND amount_reversed <= amount_minor
        AND (amount_reversed = 0 OR status = 'paid'));
