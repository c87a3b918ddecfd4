#!/usr/bin/env python3
"""Validates the station's FHIR output with a maintained FHIR library (fhir.resources, R4B models,
R4's successor with the same resources used here) and checks the structure rules the station promises:
every reference resolves inside the bundle, the Patient identifier system follows TW Core (national ID
under http://www.moi.gov.tw, resident numbers under http://www.immigration.gov.tw), the requesting
Organization carries TW Core's organization identifier system, and each record category maps to its
resource type. Usage: validate-fhir.py CATEGORY BUNDLE.json [CATEGORY BUNDLE.json ...]
Prints one line per bundle; exit 0 when all are valid, 1 otherwise (with the reasons)."""
import json
import sys

from fhir.resources.R4B.bundle import Bundle

EXPECTED = {
    "medications": "MedicationStatement",
    "tcm": "MedicationStatement",
    "allergies": "AllergyIntolerance",
    "labs": "Observation",
    "imaging": "DiagnosticReport",
    "surgeries": "Procedure",
    "discharges": "Encounter",
    "preventive": "Procedure",
}
ORGANIZATION_SYSTEM = "https://twcore.mohw.gov.tw/ig/twcore/CodeSystem/organization-identifier-tw"


def references(value):
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str):
                yield item
            else:
                yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def check(category, path):
    raw = json.load(open(path, encoding="utf-8"))
    Bundle.model_validate(raw)  # raises on anything R4B's models refuse
    problems = []
    entries = raw.get("entry", [])
    urls = {entry["fullUrl"] for entry in entries}
    for entry in entries:
        for reference in references(entry["resource"]):
            if reference not in urls:
                problems.append(f"unresolved reference {reference}")
    patients = [e["resource"] for e in entries if e["resource"]["resourceType"] == "Patient"]
    if len(patients) != 1:
        problems.append(f"{len(patients)} Patient resources")
    for patient in patients:
        if patient.get("gender") not in ("male", "female", "other", "unknown"):
            problems.append(f"Patient gender {patient.get('gender')!r} is not one of FHIR's")
        for identifier in patient.get("identifier", []):
            value, system = identifier["value"], identifier["system"]
            resident = value[1] not in "12"
            want = "http://www.immigration.gov.tw" if resident else "http://www.moi.gov.tw"
            if system != want:
                problems.append(f"Patient identifier {value[:3]}… has system {system}, expected {want}")
    organizations = [e["resource"] for e in entries if e["resource"]["resourceType"] == "Organization"]
    if not any(i.get("system") == ORGANIZATION_SYSTEM for o in organizations for i in o.get("identifier", [])):
        problems.append("no Organization with the TW Core organization identifier system")
    records = [e["resource"] for e in entries if e["resource"]["resourceType"] not in ("Patient", "Organization")]
    wrong = {r["resourceType"] for r in records} - {EXPECTED[category]}
    if wrong:
        problems.append(f"{category} gave {sorted(wrong)}, expected {EXPECTED[category]}")
    return len(records), problems


def main():
    arguments = sys.argv[1:]
    failed = False
    for category, path in zip(arguments[::2], arguments[1::2]):
        try:
            count, problems = check(category, path)
        except Exception as error:  # the library's validation error, with its reasons
            count, problems = 0, [f"{type(error).__name__}: {error}"]
        print(f"{category}: {count} records, " + ("valid" if not problems else "INVALID: " + "; ".join(problems)))
        failed = failed or bool(problems)
    sys.exit(1 if failed else 0)


main()
