-- Invoices (issue 7): what a driver (or a subscriber) paid, as a document with a number.
--
-- - Every issuer has its own series with gap-free sequential numbers: a charging session and
--   a kept booking fee are invoiced in the host's name (the platform issues them on the
--   host's behalf), subscriptions in the platform's. The number is taken from the series row,
--   locked until the issuing transaction ends, so a rolled-back invoice frees its number and
--   two issuers never wait on each other. A deferred trigger proves there is no gap.
-- - Once issued an invoice, its lines and its tax lines never change (triggers refuse it);
--   a correction is a credit note naming the invoice it corrects (a corrected session bill:
--   cancelled in full, then a new invoice; a subscription credit: the part credited).
-- - One invoice per thing invoiced (`source`, `source_id`, `kind`): issuing is idempotent.

CREATE TABLE invoice_series (
    -- `platform`, or `host:<user id>`
    issuer_key   text    NOT NULL,
    prefix       text    NOT NULL,
    last_number  bigint  NOT NULL DEFAULT 0,
    CONSTRAINT invoice_series_pkey PRIMARY KEY (issuer_key),
    CONSTRAINT invoice_series_prefix_key UNIQUE (prefix),
    CONSTRAINT invoice_series_last_number_check CHECK (last_number >= 0)
);

CREATE TABLE invoices (
    id              uuid        NOT NULL,
    kind            text        NOT NULL,
    issuer_key      text        NOT NULL,
    -- the host in whose name it is issued; NULL for the platform
    issuer_id       uuid,
    issuer_name     text        NOT NULL,
    sequence        bigint      NOT NULL,
    number          text        NOT NULL,
    customer_id     uuid        NOT NULL,
    customer_name   text        NOT NULL,
    customer_email  text        NOT NULL,
    -- what it is for: the session, booking or subscription period, in words
    subject         text        NOT NULL,
    currency        char(3)     NOT NULL,
    minor_digits    smallint    NOT NULL,
    -- `vat_included`: the lines hold the tax; `sales_tax`: tax on top of the lines; `none`
    tax_kind        text        NOT NULL,
    -- the sum of the lines; total = lines_cents + tax on top (sales tax only)
    lines_cents     bigint      NOT NULL,
    tax_cents       bigint      NOT NULL,
    total_cents     bigint      NOT NULL,
    source          text        NOT NULL,
    source_id       uuid        NOT NULL,
    -- a credit note names the invoice it cancels
    corrects        uuid,
    issued_at       timestamptz NOT NULL,
    CONSTRAINT invoices_pkey PRIMARY KEY (id),
    CONSTRAINT invoices_number_key UNIQUE (number),
    CONSTRAINT invoices_sequence_key UNIQUE (issuer_key, sequence),
    CONSTRAINT invoices_source_key UNIQUE (source, source_id, kind),
    CONSTRAINT invoices_issuer_key_fkey FOREIGN KEY (issuer_key)
        REFERENCES invoice_series (issuer_key),
    CONSTRAINT invoices_issuer_id_fkey FOREIGN KEY (issuer_id) REFERENCES users (id),
    CONSTRAINT invoices_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES users (id),
    CONSTRAINT invoices_corrects_fkey FOREIGN KEY (corrects) REFERENCES invoices (id),
    CONSTRAINT invoices_kind_check CHECK (kind IN ('invoice', 'credit_note')),
    CONSTRAINT invoices_corrects_check CHECK ((kind = 'credit_note') = (corrects IS NOT NULL)),
    CONSTRAINT invoices_sequence_check CHECK (sequence >= 1),
    CONSTRAINT invoices_source_check CHECK (source IN ('session_bill', 'booking_fee',
        'subscription_charge')),
    CONSTRAINT invoices_tax_kind_check CHECK (tax_kind IN ('vat_included', 'sales_tax', 'none')),
    CONSTRAINT invoices_total_check CHECK (total_cents = lines_cents
        + CASE WHEN tax_kind = 'sales_tax' THEN tax_cents ELSE 0 END),
    -- a credit note's amounts are negative, an invoice's are not
    CONSTRAINT invoices_sign_check CHECK ((kind = 'invoice') = (total_cents >= 0)
        OR total_cents = 0),
    CONSTRAINT invoices_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT invoices_digits_check CHECK (minor_digits BETWEEN 0 AND 4)
);
CREATE INDEX invoices_customer_idx ON invoices (customer_id, issued_at DESC, id DESC);
CREATE INDEX invoices_issuer_idx ON invoices (issuer_id, issued_at DESC, id DESC)
    WHERE issuer_id IS NOT NULL;

CREATE TABLE invoice_lines (
    invoice_id    uuid          NOT NULL,
    position      smallint      NOT NULL,
    description   text          NOT NULL,
    quantity      numeric(16, 4),
    unit          text,
    unit_price    numeric(16, 6),
    amount_cents  bigint        NOT NULL,
    CONSTRAINT invoice_lines_pkey PRIMARY KEY (invoice_id, position),
    CONSTRAINT invoice_lines_invoice_id_fkey FOREIGN KEY (invoice_id) REFERENCES invoices (id)
);

-- What tax the invoice states: the rate, the base it applies to and the amount (inside the
-- lines for VAT, on top of them for sales tax).
CREATE TABLE invoice_tax_lines (
    invoice_id     uuid          NOT NULL,
    position       smallint      NOT NULL,
    name           text          NOT NULL,
    percent        numeric(6, 3) NOT NULL,
    taxable_cents  bigint        NOT NULL,
    tax_cents      bigint        NOT NULL,
    CONSTRAINT invoice_tax_lines_pkey PRIMARY KEY (invoice_id, position),
    CONSTRAINT invoice_tax_lines_invoice_id_fkey FOREIGN KEY (invoice_id)
        REFERENCES invoices (id)
);

CREATE FUNCTION invoices_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are immutable once issued: corrections are credit notes',
        TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER invoices_immutable BEFORE UPDATE OR DELETE ON invoices
    FOR EACH ROW EXECUTE FUNCTION invoices_immutable();
CREATE TRIGGER invoice_lines_immutable BEFORE UPDATE OR DELETE ON invoice_lines
    FOR EACH ROW EXECUTE FUNCTION invoices_immutable();
CREATE TRIGGER invoice_tax_lines_immutable BEFORE UPDATE OR DELETE ON invoice_tax_lines
    FOR EACH ROW EXECUTE FUNCTION invoices_immutable();

-- Gap-free, checked at commit: an invoice's number is the first of its issuer or follows one
-- already issued, and the series' last number handed out was issued. With the numbers unique
-- and never deleted, every number up to the last is issued, by induction. The lines sum to
-- the invoice's lines_cents and the tax lines to its tax_cents.
CREATE FUNCTION invoices_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last bigint;
    lines bigint;
    tax bigint;
BEGIN
    SELECT last_number INTO last FROM invoice_series WHERE issuer_key = NEW.issuer_key;
    IF NEW.sequence > last
       OR (NEW.sequence > 1 AND NOT EXISTS (SELECT 1 FROM invoices
            WHERE issuer_key = NEW.issuer_key AND sequence = NEW.sequence - 1))
       OR NOT EXISTS (SELECT 1 FROM invoices
            WHERE issuer_key = NEW.issuer_key AND sequence = last) THEN
        RAISE EXCEPTION 'invoice numbers of % have a gap at %', NEW.issuer_key, NEW.sequence
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoices_gap_free';
    END IF;
    SELECT coalesce(sum(amount_cents), 0) INTO lines FROM invoice_lines WHERE invoice_id = NEW.id;
    SELECT coalesce(sum(tax_cents), 0) INTO tax FROM invoice_tax_lines WHERE invoice_id = NEW.id;
    IF lines <> NEW.lines_cents OR tax <> NEW.tax_cents THEN
        RAISE EXCEPTION 'invoice %: lines sum to % and tax lines to %, it says % and %',
            NEW.number, lines, tax, NEW.lines_cents, NEW.tax_cents
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoices_lines_sum';
    END IF;
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER invoices_check AFTER INSERT ON invoices
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION invoices_check();
