"""A family's chat markup, written out as a Jinja chat template and as an Ollama Go template.

Both come from the one :class:`~hubkit.catalog.families.ChatFormat`, so the
text transformers renders for training and the text Ollama renders at run time
are the same by construction (tests render both and compare).

Jinja: the whole conversation, ``add_generation_prompt`` adds the assistant's
opening. Go (Ollama): no BOS, because llama.cpp adds it itself when the GGUF
says ``add_bos_token``; the assistant's opening follows the last message when
that message is not the assistant's, which is how Ollama asks for an answer.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hubkit.catalog.families import ChatFormat


def _roles(chat: ChatFormat) -> list[str]:
    """Roles whose markup differs from the default, in a stable order."""
    named = [role for role, _ in chat.role_headers] + [role for role, _ in chat.role_footers]
    return list(dict.fromkeys(named))


def _jinja_text(text: str) -> str:
    return "{{ " + json.dumps(text) + " }}" if text else ""


def _jinja_header(header: str) -> str:
    return "{{ message['role'] }}".join(_jinja_text(part) for part in header.split("{role}"))


def jinja_template(chat: ChatFormat) -> str:
    out = [_jinja_text(chat.bos or "")]
    if chat.system_prefix is not None:
        out.append("{% set ns = namespace(system='') %}")
    out.append("{% for message in messages %}")
    branches: list[tuple[str, str]] = []
    if chat.system_prefix is not None:
        branches.append(("system", "{% set ns.system = message['content'] + " + json.dumps(chat.system_prefix) + " %}"))
    for role in _roles(chat):
        if role == "system" and chat.system_prefix is not None:
            continue
        body = _jinja_header(chat.header_for(role))
        if role == "user" and chat.system_prefix is not None:
            body += "{{ ns.system }}{% set ns.system = '' %}"
        body += "{{ message['content'] }}" + _jinja_text(chat.footer_for(role))
        branches.append((role, body))
    default = _jinja_header(chat.header) + "{{ message['content'] }}" + _jinja_text(chat.footer)
    for i, (role, body) in enumerate(branches):
        out.append(("{% if " if i == 0 else "{% elif ") + f"message['role'] == {json.dumps(role)} %}}" + body)
    out.append(("{% else %}" if branches else "") + default + ("{% endif %}" if branches else ""))
    out.append("{% endfor %}")
    if chat.generation:
        out.append("{% if add_generation_prompt %}" + _jinja_text(chat.generation) + "{% endif %}")
    return "".join(out)


def _go_text(text: str) -> str:
    if "{{" in text or '"""' in text:
        raise ValueError(f"chat markup {text!r} cannot be written into a Go template")
    return text


def _go_header(header: str) -> str:
    return "{{ .Role }}".join(_go_text(part) for part in header.split("{role}"))


def go_template(chat: ChatFormat) -> str:
    """The Ollama ``TEMPLATE`` (Go text/template), using only eq/ne/and/len/slice/print and variables."""
    out = []
    if chat.system_prefix is not None:
        out.append('{{ $system := "" }}')
    out.append("{{ range $i, $m := .Messages }}")
    branches: list[tuple[str, str]] = []
    if chat.system_prefix is not None:
        branches.append(("system", "{{ $system = print .Content " + json.dumps(chat.system_prefix) + " }}"))
    for role in _roles(chat):
        if role == "system" and chat.system_prefix is not None:
            continue
        body = _go_header(chat.header_for(role))
        if role == "user" and chat.system_prefix is not None:
            body += '{{ $system }}{{ $system = "" }}'
        body += "{{ .Content }}" + _go_text(chat.footer_for(role))
        branches.append((role, body))
    default = _go_header(chat.header) + "{{ .Content }}" + _go_text(chat.footer)
    for i, (role, body) in enumerate(branches):
        out.append(("{{ if " if i == 0 else "{{ else if ") + f"eq .Role {json.dumps(role)} }}}}" + body)
    out.append(("{{ else }}" if branches else "") + default + ("{{ end }}" if branches else ""))
    if chat.generation:
        out.append('{{ if and (eq (len (slice $.Messages $i)) 1) (ne .Role "assistant") }}'
                   + _go_text(chat.generation) + "{{ end }}")
    out.append("{{ end }}")
    return "".join(out)
