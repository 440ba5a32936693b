module ingest.local/corpusgen

go 1.19
