-- The platform's own sales (driver plans and hosts' products) carry VAT included in the
-- catalogue's prices, at the rate of the market the currency is sold in. Insurance coverage
-- is exempt (EU VAT directive, art. 135(1)(a)); a currency without a rate is sold untaxed
-- (US sales tax on subscriptions is not collected). A rate applies to charges made after it
-- is set; each charge keeps the rate it was made at.
CREATE TABLE platform_tax_rates (
    currency  char(3)       NOT NULL,
    name      text          NOT NULL,
    percent   numeric(5, 2) NOT NULL,
    CONSTRAINT platform_tax_rates_pkey PRIMARY KEY (currency),
    CONSTRAINT platform_tax_rates_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT platform_tax_rates_percent_check CHECK (percent > 0 AND percent < 100)
);

-- The platform is seated in the Netherlands.
INSERT INTO platform_tax_rates (currency, name, percent) VALUES ('EUR', 'VAT', 21);

-- The VAT each charge holds (a credit: the VAT given back, at the credited charge's rate).
ALTER TABLE subscription_charges
    ADD COLUMN tax_minor   bigint        NOT NULL DEFAULT 0,
    ADD COLUMN tax_name    text,
    ADD COLUMN tax_percent numeric(5, 2),
    ADD CONSTRAINT subscription_charges_tax_check CHECK (tax_minor >= 0
        AND tax_minor <= amount_minor
        AND (tax_name IS NULL) = (tax_percent IS NULL)
        AND (tax_minor = 0 OR tax_percent IS NOT NULL));
