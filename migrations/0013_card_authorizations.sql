-- Card authorizations settled by the platform itself (issue 7): a manual-capture card payment
-- of a booking or a session is captured for what its bill or the refund policy claims, or
-- released when nothing does, or when it is about to lapse at the provider.
--
-- The decision is written before the provider is asked, so a retry after a crash asks again
-- with the same idempotency key AND the same amount (Stripe refuses a key reused with other
-- parameters), and what was decided stays on record next to what the provider did.

CREATE TABLE card_authorization_actions (
    payment_id     uuid        NOT NULL,
    -- capture (part of) the authorization, or cancel it (release everything)
    action         text        NOT NULL,
    -- what is captured; 0 for a cancel
    amount_minor   bigint      NOT NULL,
    -- bill: the posted bill left the driver owing it; fee: the booking ended and the refund
    -- policy keeps it; released: nothing is owed; stale: nothing claimed it in time
    reason         text        NOT NULL,
    -- for people reading it: which bill, which refund decision, how many minutes' notice
    detail         text        NOT NULL DEFAULT '',
    decided_at     timestamptz NOT NULL,
    -- when the provider's answer was recorded (NULL: still to ask, or to ask again)
    done_at        timestamptz,
    -- the payment's status the provider reported when done (succeeded, canceled)
    outcome        text,
    -- provider calls that did not settle it yet, the last one's time and why; the job waits
    -- longer after each (doubling, at most an hour) so an outage is not hammered
    attempts       integer     NOT NULL DEFAULT 0,
    attempted_at   timestamptz,
    last_error     text,
    CONSTRAINT card_authorization_actions_pkey PRIMARY KEY (payment_id),
    CONSTRAINT card_authorization_actions_payment_id_fkey FOREIGN KEY (payment_id)
        REFERENCES payments (id),
    CONSTRAINT card_authorization_actions_action_check CHECK (action IN ('capture', 'cancel')),
    CONSTRAINT card_authorization_actions_amount_check
        CHECK ((action = 'capture' AND amount_minor > 0) OR (action = 'cancel' AND amount_minor = 0)),
    CONSTRAINT card_authorization_actions_reason_check
        CHECK (reason IN ('bill', 'fee', 'released', 'stale')),
    CONSTRAINT card_authorization_actions_reason_action_check
        CHECK ((reason IN ('bill', 'fee')) = (action = 'capture')),
    CONSTRAINT card_authorization_actions_done_check CHECK ((done_at IS NULL) = (outcome IS NULL))
);
-- the job's queue: decided, not done
CREATE INDEX card_authorization_actions_pending_idx ON card_authorization_actions (decided_at)
    WHERE done_at IS NULL;
-- the job's other queue: authorizations still open
CREATE INDEX payments_authorized_idx ON payments (created_at, id)
    WHERE status = 'requires_capture';
