-- Trust decides on answers, outcomes and counts, never on what people wrote: the events it
-- reads no longer carry a check-in's note, a concern's summary, a resolution's reason or a
-- failed vetting step's reason (booking keeps them). Forget the copies kept before.
UPDATE checkins SET note = NULL WHERE note IS NOT NULL;
UPDATE concerns SET summary = NULL, reason = NULL WHERE summary IS NOT NULL OR reason IS NOT NULL;
UPDATE vetting_steps SET reason = NULL WHERE reason IS NOT NULL;
