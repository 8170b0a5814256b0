-- Webhook secret rotation: for a window after a new secret is issued, each webhook is signed
-- with the previous secret too, so a partner can switch its receiver over without a gap.
ALTER TABLE partners
    ADD COLUMN previous_webhook_secret text,
    ADD COLUMN previous_secret_until timestamptz;
