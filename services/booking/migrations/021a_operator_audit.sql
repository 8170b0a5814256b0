-- Every operator action, and every operator view of a person's personal details: who, what,
-- when and the reason they gave. Append-only: the database itself refuses to change or
-- remove an entry (whatever role connects), and the API offers no way to.
CREATE TABLE operator_audit (
    entry_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL,
    -- NULL for the development bootstrap administrator (the shared token).
    operator_id     uuid,
    operator        text NOT NULL,
    roles           text[] NOT NULL,
    action          text NOT NULL,
    subject_kind    text,
    subject_id      text,
    reason          text,
    details         jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX operator_audit_by_subject ON operator_audit (subject_id, entry_id);
CREATE INDEX operator_audit_by_operator ON operator_audit (operator_id, entry_id);

CREATE FUNCTION operator_audit_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the operator audit trail is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER operator_audit_no_change
    BEFORE UPDATE OR DELETE ON operator_audit
    FOR EACH ROW EXECUTE FUNCTION operator_audit_is_append_only();
CREATE TRIGGER operator_audit_no_truncate
    BEFORE TRUNCATE ON operator_audit
    FOR EACH STATEMENT EXECUTE FUNCTION operator_audit_is_append_only();
