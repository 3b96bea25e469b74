-- Paying hosts what the platform owes them (issue 7): sessions paid from wallets credit the
-- host's `host_payable`; a periodic run transfers it to the host's connected account (a
-- Stripe Transfer), and the ledger settles the host payable against provider clearing.
--
-- Each transfer is decided before the provider is asked (status `pending`, the amount fixed),
-- so a retry after a crash asks again with the same idempotency key and amount; at most one
-- pending transfer per host and currency. `paid` once the provider made it and the ledger
-- settled it (in one transaction); `failed` when the provider refused it (nothing moved).
CREATE TABLE host_transfers (
    id                    uuid        NOT NULL,
    host_id               uuid        NOT NULL,
    provider              text        NOT NULL,
    destination_account   text        NOT NULL,
    amount_minor          bigint      NOT NULL,
    currency              char(3)     NOT NULL,
    status                text        NOT NULL,
    provider_transfer_id  text,
    ledger_posting_id     uuid,
    failure               text,
    attempts              integer     NOT NULL DEFAULT 0,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    CONSTRAINT host_transfers_pkey PRIMARY KEY (id),
    CONSTRAINT host_transfers_host_id_fkey FOREIGN KEY (host_id) REFERENCES users (id),
    CONSTRAINT host_transfers_posting_fkey FOREIGN KEY (ledger_posting_id)
        REFERENCES ledger_postings (id),
    CONSTRAINT host_transfers_posting_key UNIQUE (ledger_posting_id),
    CONSTRAINT host_transfers_provider_id_key UNIQUE (provider, provider_transfer_id),
    CONSTRAINT host_transfers_amount_check CHECK (amount_minor > 0),
    CONSTRAINT host_transfers_status_check CHECK (status IN ('pending', 'paid', 'failed')),
    CONSTRAINT host_transfers_paid_check CHECK ((status = 'paid')
        = (provider_transfer_id IS NOT NULL AND ledger_posting_id IS NOT NULL))
);
CREATE UNIQUE INDEX host_transfers_one_pending_key ON host_transfers (host_id, currency)
    WHERE status = 'pending';
CREATE INDEX host_transfers_host_idx ON host_transfers (host_id, created_at);
