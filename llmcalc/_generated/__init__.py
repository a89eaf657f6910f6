"""Methods of llmcalc's records, written by tools/build_records.py."""
