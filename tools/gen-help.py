#!/usr/bin/env python3
"""Writes src/ImageModule/en-US/ImageModule.dll-Help.xml (MAML, what Get-Help reads for binary cmdlets) from
tools/help.json. Parameter attributes (position, pipeline input, wildcards, required) are read from the cmdlet
sources so the help cannot drift from the code. Run after changing a cmdlet or its help text."""
import json, os, re
from xml.sax.saxutils import escape

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
help_data = json.load(open(os.path.join(root, "tools", "help.json")))
files = {}
for d in ("src/ImageModule", "src/ImageModule/Commands"):
    for f in sorted(os.listdir(os.path.join(root, d))):
        if f.endswith(".cs"):
            files[f] = open(os.path.join(root, d, f)).read()
base_sources = files.get("ImageSelectionCmdlet.cs", "") + files.get("StoreCmdlet.cs", "")

def source_of(verb, noun):
    """The cmdlet's own file first, then the base classes it may inherit parameters from."""
    for text in files.values():
        if re.search(r'\[Cmdlet\(Verbs\w+\.' + verb + r', "' + noun + r'"', text):
            return text + "\n" + base_sources
    raise SystemExit(f"no source for {verb}-{noun}")

def attributes(name):
    """Parameter attributes of the property `name` (first declaration found), from [Parameter(...)] text."""
    m = re.search(r"\[Parameter\(([^)]*)\)\][^\n]*\n(?:\s*\[[^\n]*\n)*\s*public [^ ]+ " + name + r"\b", sources)
    text = m.group(1) if m else ""
    block = m.group(0) if m else ""
    pos = re.search(r"Position = (\d+)", text)
    pipeline = []
    if "ValueFromPipeline = true" in text: pipeline.append("ByValue")
    if "ValueFromPipelineByPropertyName = true" in text: pipeline.append("ByPropertyName")
    return {
        "required": "true" if "Mandatory = true" in text else "false",
        "position": pos.group(1) if pos else "named",
        "pipelineInput": "True (" + ", ".join(pipeline) + ")" if pipeline else "False",
        "globbing": "true" if "SupportsWildcards" in block else "false",
    }

out = ['<?xml version="1.0" encoding="utf-8"?>', '<helpItems schema="maml" xmlns="http://msh">']
for cmdlet, h in help_data.items():
    verb, noun = cmdlet.split("-", 1)
    sources = source_of(verb, noun)
    out.append('<command:command xmlns:maml="http://schemas.microsoft.com/maml/2004/10" '
               'xmlns:command="http://schemas.microsoft.com/maml/dev/command/2004/10" '
               'xmlns:dev="http://schemas.microsoft.com/maml/dev/2004/10">')
    out.append(f"<command:details><command:name>{cmdlet}</command:name><command:verb>{verb}</command:verb>"
               f"<command:noun>{noun}</command:noun><maml:description><maml:para>{escape(h['synopsis'])}</maml:para>"
               f"</maml:description></command:details>")
    out.append(f"<maml:description><maml:para>{escape(h['description'])}</maml:para></maml:description>")
    out.append("<command:parameters>")
    for p, desc in h["parameters"].items():
        a = attributes(p)
        out.append(f'<command:parameter required="{a["required"]}" globbing="{a["globbing"]}" '
                   f'pipelineInput="{a["pipelineInput"]}" position="{a["position"]}"><maml:name>{p}</maml:name>'
                   f"<maml:description><maml:para>{escape(desc)}</maml:para></maml:description></command:parameter>")
    out.append("</command:parameters><command:examples>")
    for i, (code, remark) in enumerate(h["examples"], 1):
        out.append(f"<command:example><maml:title>-------------------------- Example {i} --------------------------</maml:title>"
                   f"<dev:code>PS&gt; {escape(code)}</dev:code><dev:remarks><maml:para>{escape(remark)}</maml:para></dev:remarks></command:example>")
    out.append("</command:examples></command:command>")
out.append("</helpItems>")
path = os.path.join(root, "src", "ImageModule", "en-US", "ImageModule.dll-Help.xml")
open(path, "w").write("\n".join(out) + "\n")
print(f"wrote {path} ({len(help_data)} cmdlets)")
