-- What payment providers charge the platform for their own work (a dispute's fee): an
-- expense, negative like the refunds expense. Kept apart from `platform_refunds` so the
-- cost of chargebacks can be read on its own.
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check CHECK (kind IN (
    'driver_wallet', 'driver_hold', 'driver_receivable', 'host_payable', 'platform_commission',
    'insurance_reserve', 'tax_payable', 'provider_clearing', 'platform_refunds',
    'platform_subscriptions', 'provider_fees'));
