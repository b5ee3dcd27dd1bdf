#!/usr/bin/python3
"""Validates certsweep reports against the JSON Schemas in report/schema/.

usage: validate_report.py SCHEMA_DIR KIND FILE [KIND FILE ...]
       validate_report.py SCHEMA_DIR --check-schemas

KIND is "json" (a JSON document: certsweep.schema.json) or "jsonl" (JSON
Lines: each line a record, certsweep-record.schema.json).  --check-schemas
checks the two schemas against their metaschema (once, in
test_report_schema, not per report: it costs as much as the import).  Several reports
go in one call, since starting Python and importing jsonschema costs more
than validating.  Exit 0 when every report is valid; else 1, with one line
per report naming the file, the line (JSON Lines), where in the document,
and the validator's message.  Exit 2 for a usage or schema error.
"""
import json
import os
import sys
import warnings

import jsonschema

DOCUMENT = "certsweep.schema.json"
RECORD = "certsweep-record.schema.json"


def load_schemas(schema_dir, check=False):
    with open(os.path.join(schema_dir, DOCUMENT), encoding="utf-8") as f:
        document = json.load(f)
    with open(os.path.join(schema_dir, RECORD), encoding="utf-8") as f:
        record = json.load(f)
    cls = jsonschema.validators.validator_for(document)
    if check:
        cls.check_schema(document)
        cls.check_schema(record)
    try:  # jsonschema >= 4.18 resolves references through referencing
        from referencing import Registry, Resource

        registry = Registry().with_resources(
            (s["$id"], Resource.from_contents(s)) for s in (document, record)
        )
        return cls(document, registry=registry), cls(record, registry=registry)
    except ImportError:  # older jsonschema (Debian 12: 4.10)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            store = {document["$id"]: document, record["$id"]: record}
            resolver = jsonschema.RefResolver.from_schema(document, store=store)
            return cls(document, resolver=resolver), cls(record, resolver=resolver)


def where(error):
    return "/" + "/".join(str(p) for p in error.absolute_path)


def first_error(validator, instance):
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.path)))
    if not errors:
        return None
    best = jsonschema.exceptions.best_match(errors)
    return "%s: %s" % (where(best), best.message)


def check_json(validator, path):
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        return "%s: cannot read it as JSON: %s" % (path, e)
    err = first_error(validator, doc)
    return None if err is None else "%s: %s" % (path, err)


def check_jsonl(validator, path):
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except (OSError, ValueError) as e:
        return "%s: cannot read it: %s" % (path, e)
    for n, line in enumerate(lines, 1):
        if line.strip() == "":
            return "%s:%d: an empty line" % (path, n)
        if not line.endswith("\n"):
            return "%s:%d: the last line has no newline (cut short?)" % (path, n)
        try:
            rec = json.loads(line)
        except ValueError as e:
            return "%s:%d: not JSON: %s" % (path, n, e)
        err = first_error(validator, rec)
        if err is not None:
            return "%s:%d: %s" % (path, n, err)
    return None


def main(argv):
    if len(argv) == 3 and argv[2] == "--check-schemas":
        load_schemas(argv[1], check=True)
        return 0
    if len(argv) < 4 or len(argv) % 2 != 0:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    document, record = load_schemas(argv[1])
    bad = 0
    for kind, path in zip(argv[2::2], argv[3::2]):
        if kind == "json":
            err = check_json(document, path)
        elif kind == "jsonl":
            err = check_jsonl(record, path)
        else:
            print("%s: not a report kind (json or jsonl)" % kind, file=sys.stderr)
            return 2
        if err is not None:
            print(err)
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
