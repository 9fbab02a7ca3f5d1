#!/usr/bin/env python3
"""Writes src/ImageModule/en-US/ImageModule.dll-Help.xml (MAML, what Get-Help reads for binary cmdlets).

The structure — syntax blocks per parameter set, parameter types, positions, pipeline input, aliases, wildcards,
inputs and outputs — comes from the BUILT module as PowerShell itself sees it (tools/cmdlet-metadata.ps1 run under
pwsh), so help cannot drift from the code. The words — synopsis, description, parameter descriptions, examples,
notes — come from tools/help.json. A cmdlet or parameter without words there is an error, not a blank page.

Usage: build first, then `python3 tools/gen-help.py` (finds pwsh on PATH or in out/tools), or
`python3 tools/gen-help.py metadata.json` with metadata dumped earlier."""
import json, os, re, shutil, subprocess, sys
from xml.sax.saxutils import escape, quoteattr

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
help_data = json.load(open(os.path.join(root, "tools", "help.json")))
shared = help_data.pop("_shared", {})


def load_metadata():
    if len(sys.argv) > 1:
        return json.load(open(sys.argv[1]))
    pwsh = shutil.which("pwsh") or os.path.join(root, "out", "tools", "pwsh")
    if not os.path.exists(pwsh):
        raise SystemExit("pwsh not found: install it (dotnet tool install PowerShell --version 7.6.9 --tool-path out/tools)")
    manifest = os.path.join(root, "out", "ImageModule", "ImageModule.psd1")
    if not os.path.exists(manifest):
        raise SystemExit(f"{manifest} missing: build first (dotnet build ImageModule.sln -c Release)")
    out = subprocess.run([pwsh, "-NoProfile", "-NonInteractive", "-File", os.path.join(root, "tools", "cmdlet-metadata.ps1"), manifest],
                         check=True, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    return json.loads(out.stdout)


metadata = {c["Name"]: c for c in load_metadata()}
missing = sorted(set(metadata) - set(help_data))
extra = sorted(set(help_data) - set(metadata))
if missing or extra:
    raise SystemExit(f"help.json and the module disagree: no help for {missing}; help for cmdlets that do not exist: {extra}")

NAMED = -2147483648  # Position of a parameter that is not positional
CMDLET_RE = re.compile(r"\b(?:Get|Remove|Add|Copy|Import|Save|Export|Expand|Install|Publish|Find|Connect|Disconnect|Set|Test|Repair)-Image\w*\b")


def para(text):
    return "".join(f"<maml:para>{escape(p)}</maml:para>" for p in text.split("\n\n"))


def describe(cmdlet, name):
    text = help_data[cmdlet]["parameters"].get(name) or shared.get(name)
    if not text:
        raise SystemExit(f"{cmdlet} -{name} has no description in tools/help.json")
    return text


def merged(command):
    """Each parameter once, attributes merged over the sets it belongs to (the PARAMETERS section)."""
    params = {}
    for pset in command["ParameterSets"]:
        for p in pset["Parameters"]:
            m = params.setdefault(p["Name"], {**p, "Mandatory": False, "Position": NAMED, "ByValue": False, "ByPropertyName": False, "Sets": []})
            m["Mandatory"] = m["Mandatory"] or p["Mandatory"]
            if m["Position"] == NAMED:
                m["Position"] = p["Position"]
            m["ByValue"] = m["ByValue"] or p["ByValue"]
            m["ByPropertyName"] = m["ByPropertyName"] or p["ByPropertyName"]
            m["Sets"].append(pset["Name"])
    return params


def pipeline(p):
    kinds = [k for k, on in (("ByValue", p["ByValue"]), ("ByPropertyName", p["ByPropertyName"])) if on]
    return "True (" + ", ".join(kinds) + ")" if kinds else "False"


def is_switch(p):
    return p["Type"] == "System.Management.Automation.SwitchParameter"


def parameter_xml(cmdlet, p, in_syntax):
    attrs = (f'required="{str(p["Mandatory"]).lower()}" variableLength="{str(p["Type"].endswith("[]")).lower()}" '
             f'globbing="{str(p["Wildcards"]).lower()}" pipelineInput="{pipeline(p)}" '
             f'position="{"named" if p["Position"] == NAMED else p["Position"]}" aliases={quoteattr(", ".join(p["Aliases"]) or "none")}')
    xml = [f"<command:parameter {attrs}><maml:name>{p['Name']}</maml:name>",
           f"<maml:description>{para(describe(cmdlet, p['Name']))}</maml:description>"]
    values = p.get("Values") or p.get("Enum") or []
    if values:
        xml.append("<command:parameterValueGroup>" + "".join(
            f'<command:parameterValue required="false" command:variableLength="false">{escape(v)}</command:parameterValue>' for v in values)
            + "</command:parameterValueGroup>")
    if not (in_syntax and is_switch(p)):
        xml.append(f'<command:parameterValue required="{str(not is_switch(p)).lower()}" variableLength="{str(p["Type"].endswith("[]")).lower()}">'
                   f"{escape(p['TypeName'])}</command:parameterValue>")
    xml.append(f"<dev:type><maml:name>{escape(p['Type'])}</maml:name><maml:uri /></dev:type>")
    if not in_syntax:
        xml.append("<dev:defaultValue>" + ("False" if is_switch(p) else "None") + "</dev:defaultValue>")
    xml.append("</command:parameter>")
    return "".join(xml)


def syntax_xml(cmdlet, command):
    items = []
    # The default set first, as Get-Command -Syntax shows it.
    for pset in sorted(command["ParameterSets"], key=lambda s: not s["IsDefault"]):
        ordered = sorted(pset["Parameters"], key=lambda p: (p["Position"] == NAMED, p["Position"], not p["Mandatory"]))
        items.append(f"<command:syntaxItem><maml:name>{cmdlet}</maml:name>"
                     + "".join(parameter_xml(cmdlet, p, True) for p in ordered) + "</command:syntaxItem>")
    return "<command:syntax>" + "".join(items) + "</command:syntax>"


def inputs_xml(cmdlet, params):
    h = help_data[cmdlet]
    entries = []
    by_type = {}
    for p in params.values():
        if p["ByValue"]:
            by_type.setdefault(p["Type"], []).append(f"-{p['Name']} from the pipeline")
    for p in params.values():
        if p["ByPropertyName"]:
            names = " or ".join([p["Name"]] + p["Aliases"])
            by_type.setdefault("System.Management.Automation.PSObject", []).append(f"-{p['Name']} from a property named {names}")
    for type_name, uses in by_type.items():
        text = h.get("inputs", {}).get(type_name) or ("Objects whose properties bind: " if type_name.endswith("PSObject") else "") + "; ".join(uses) + "."
        entries.append(f"<command:inputType><dev:type><maml:name>{escape(type_name)}</maml:name><maml:uri /></dev:type>"
                       f"<maml:description>{para(text)}</maml:description></command:inputType>")
    if not entries:
        entries.append("<command:inputType><dev:type><maml:name>None</maml:name><maml:uri /></dev:type>"
                       "<maml:description><maml:para>This cmdlet takes no pipeline input.</maml:para></maml:description></command:inputType>")
    return "<command:inputTypes>" + "".join(entries) + "</command:inputTypes>"


def outputs_xml(cmdlet, command):
    h = help_data[cmdlet]
    types = command["OutputTypes"] or ["None"]
    entries = []
    for t in types:
        text = h.get("outputs", {}).get(t) or ("Nothing, unless -PassThru." if t == "None" else f"{t.split('.')[-1]} objects.")
        entries.append(f"<command:returnValue><dev:type><maml:name>{escape(t)}</maml:name><maml:uri /></dev:type>"
                       f"<maml:description>{para(text)}</maml:description></command:returnValue>")
    return "<command:returnValues>" + "".join(entries) + "</command:returnValues>"


def related_xml(cmdlet):
    h = help_data[cmdlet]
    text = " ".join(code for code, _ in h["examples"]) + " " + h["description"]
    mentioned = [c for c in dict.fromkeys(CMDLET_RE.findall(text)) if c != cmdlet and c in metadata]
    links = list(dict.fromkeys(h.get("related", []) + mentioned + ["about_ImageModule"]))
    return "<command:relatedLinks>" + "".join(
        f"<maml:navigationLink><maml:linkText>{escape(l)}</maml:linkText><maml:uri /></maml:navigationLink>" for l in links) + "</command:relatedLinks>"


out = ['<?xml version="1.0" encoding="utf-8"?>', '<helpItems schema="maml" xmlns="http://msh">']
for cmdlet in sorted(help_data):
    h = help_data[cmdlet]
    command = metadata[cmdlet]
    params = merged(command)
    unknown = sorted(set(h["parameters"]) - set(params))
    if unknown:
        raise SystemExit(f"tools/help.json describes parameters {cmdlet} does not have: {unknown}")
    out.append('<command:command xmlns:maml="http://schemas.microsoft.com/maml/2004/10" '
               'xmlns:command="http://schemas.microsoft.com/maml/dev/command/2004/10" '
               'xmlns:dev="http://schemas.microsoft.com/maml/dev/2004/10">')
    out.append(f"<command:details><command:name>{cmdlet}</command:name><command:verb>{command['Verb']}</command:verb>"
               f"<command:noun>{command['Noun']}</command:noun><maml:description>{para(h['synopsis'])}</maml:description></command:details>")
    out.append(f"<maml:description>{para(h['description'])}</maml:description>")
    out.append(syntax_xml(cmdlet, command))
    out.append("<command:parameters>" + "".join(parameter_xml(cmdlet, p, False) for p in sorted(params.values(), key=lambda p: p["Name"])) + "</command:parameters>")
    out.append(inputs_xml(cmdlet, params))
    out.append(outputs_xml(cmdlet, command))
    if h.get("notes"):
        out.append("<maml:alertSet><maml:alert>" + para(h["notes"]) + "</maml:alert></maml:alertSet>")
    out.append("<command:examples>")
    for i, (code, remark) in enumerate(h["examples"], 1):
        out.append(f"<command:example><maml:title>-------------------------- Example {i} --------------------------</maml:title>"
                   f"<dev:code>PS&gt; {escape(code)}</dev:code><dev:remarks>{para(remark)}</dev:remarks></command:example>")
    out.append("</command:examples>")
    out.append(related_xml(cmdlet))
    out.append("</command:command>")
out.append("</helpItems>")
path = os.path.join(root, "src", "ImageModule", "en-US", "ImageModule.dll-Help.xml")
open(path, "w").write("\n".join(out) + "\n")
print(f"wrote {path} ({len(help_data)} cmdlets)")
