"""One-click data collection (线上一键采集): forms, campaigns, tasks, submissions and results.

A form is a JSON Schema (draft 2020-12) for the data plus a UI layer; ``schema_check`` decides
whether an uploaded form may be stored, ``validator`` compiles it into a fast checker of
submissions, ``fields`` holds the field kinds both share. docs/collection/forms.md is the
reference for form authors.
"""
