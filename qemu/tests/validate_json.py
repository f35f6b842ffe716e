#!/usr/bin/env python3
"""Validate a JSON document against a JSON Schema with Debian's python3-jsonschema.

usage: validate_json.py SCHEMA DOCUMENT
exit 0: valid; 1: invalid (each error printed); 3: unreadable input or bad schema.
"""
import json
import sys

import jsonschema


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 3
    try:
        with open(argv[1]) as f:
            schema = json.load(f)
        with open(argv[2]) as f:
            document = json.load(f)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        # The schemas' "$id" is relative (they are files of this repo, not
        # published); Debian 12's jsonschema 4.10 resolves "#/$defs/..."
        # against it and fails, newer ones do not. Every reference is local.
        schema.pop("$id", None)
    except (OSError, ValueError, jsonschema.SchemaError) as e:
        print(f"validate_json: {e}", file=sys.stderr)
        return 3
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    for e in errors:
        where = "/".join(str(p) for p in e.absolute_path) or "(root)"
        message = e.message if len(e.message) <= 300 else e.message[:300] + "..."
        print(f"{argv[2]}: {where}: {message}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
