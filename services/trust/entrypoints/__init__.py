"""Trust's entrypoints: the event consumer and the periodic pause sweep."""
