module ingest.local/bench/gostackparse

go 1.19
