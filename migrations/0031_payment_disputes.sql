-- Disputes (chargebacks) of card payments, as the provider's `charge.dispute.*` events tell
-- them. The provider takes the disputed amount (and its fee) out of the platform's balance
-- when the dispute opens and gives the amount back when the platform wins: each of those
-- two movements is posted once (`withdrawal_posting_id`, `reinstatement_posting_id`, keys
-- `dispute_withdrawn|dispute_reinstated:<provider>:<dispute>`), whatever order and however
-- often the events arrive. `status` is the provider's latest (by event time, `status_at`).
CREATE TABLE payment_disputes (
    id                        uuid        NOT NULL,
    payment_id                uuid        NOT NULL,
    provider                  text        NOT NULL,
    provider_dispute_id       text        NOT NULL,
    amount_minor              bigint      NOT NULL,
    fee_minor                 bigint      NOT NULL DEFAULT 0,
    fee_returned_minor        bigint      NOT NULL DEFAULT 0,
    currency                  char(3)     NOT NULL,
    status                    text        NOT NULL,
    reason                    text,
    status_at                 timestamptz NOT NULL,
    withdrawal_posting_id     uuid,
    reinstatement_posting_id  uuid,
    created_at                timestamptz NOT NULL,
    updated_at                timestamptz NOT NULL,
    CONSTRAINT payment_disputes_pkey PRIMARY KEY (id),
    CONSTRAINT payment_disputes_provider_id_key UNIQUE (provider, provider_dispute_id),
    CONSTRAINT payment_disputes_payment_id_fkey FOREIGN KEY (payment_id) REFERENCES payments (id),
    CONSTRAINT payment_disputes_withdrawal_fkey FOREIGN KEY (withdrawal_posting_id)
        REFERENCES ledger_postings (id),
    CONSTRAINT payment_disputes_reinstatement_fkey FOREIGN KEY (reinstatement_posting_id)
        REFERENCES ledger_postings (id),
    CONSTRAINT payment_disputes_amount_check CHECK (amount_minor > 0 AND fee_minor >= 0
        AND fee_returned_minor >= 0 AND fee_returned_minor <= fee_minor),
    -- money comes back only after it was taken
    CONSTRAINT payment_disputes_order_check CHECK (reinstatement_posting_id IS NULL
        OR withdrawal_posting_id IS NOT NULL)
);
CREATE INDEX payment_disputes_payment_idx ON payment_disputes (payment_id);
