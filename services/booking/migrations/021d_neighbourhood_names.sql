-- Operators name neighbourhoods: one name per neighbourhood cell (H3, resolution 7), and the
-- same name on several cells makes a group ("Splott and Adamsdown"). Operators see these
-- names wherever a neighbourhood would otherwise be a cell id.
CREATE TABLE neighbourhood_names (
    cell        text PRIMARY KEY,
    name        text NOT NULL,
    named_by    text NOT NULL,
    named_at    timestamptz NOT NULL
);
CREATE INDEX neighbourhood_names_by_name ON neighbourhood_names (name);
