"""A small interpreter of the Go text/template subset hubkit emits for Ollama, for tests.

It follows Go's semantics for what it accepts (``range $i, $m := .Messages``,
``if`` / ``else if`` / ``else`` / ``end``, ``$v := x`` and ``$v = x`` which print
nothing, ``eq ne and len slice print``, parentheses, ``.Field``, ``$.Field``,
Go string literals) and raises on anything else, so a template that grows
beyond the subset fails the tests instead of being rendered wrongly.
"""
from __future__ import annotations

import ast
import re
from typing import Any

_ACTION = re.compile(r"{{(-?)\s*(.*?)\s*(-?)}}", re.S)
_TOKEN = re.compile(r'\s*("(?:[^"\\]|\\.)*"|\(|\)|\$\.[A-Za-z]+|\$[A-Za-z_]*|\.[A-Za-z]+|[A-Za-z]+|\d+|:=|=|,)')


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"unsupported template syntax: {text[pos:]!r}")
        out.append(m.group(1))
        pos = m.end()
    return out


def _parse(source: str) -> list[Any]:
    """Nodes: ("text", s) | ("out", expr) | ("set", name, expr, declare) | ("if", [(cond, body)], else) | ("range", ...)."""
    parts: list[Any] = []
    pos = 0
    for m in _ACTION.finditer(source):
        if m.group(1) or m.group(3):
            raise ValueError("trim markers are not in the subset")
        parts.append(("text", source[pos:m.start()]))
        parts.append(("action", m.group(2)))
        pos = m.end()
    parts.append(("text", source[pos:]))
    nodes, rest = _block(parts, 0)
    if rest != len(parts):
        raise ValueError("unbalanced {{ end }}")
    return nodes


def _block(parts: list[Any], i: int) -> tuple[list[Any], int]:
    nodes: list[Any] = []
    while i < len(parts):
        kind, value = parts[i]
        if kind == "text":
            if value:
                nodes.append(("text", value))
            i += 1
            continue
        toks = _tokens(value)
        if toks[0] in ("end", "else"):
            return nodes, i
        if toks[0] == "if":
            branches, otherwise = [], []
            cond = _expr(toks[1:])
            while True:
                body, i = _block(parts, i + 1)
                branches.append((cond, body))
                head = _tokens(parts[i][1])
                if head[0] == "end":
                    break
                if head[:2] == ["else", "if"]:
                    cond = _expr(head[2:])
                    continue
                otherwise, i = _block(parts, i + 1)
                if _tokens(parts[i][1])[0] != "end":
                    raise ValueError("else must be followed by end")
                break
            nodes.append(("if", branches, otherwise))
            i += 1
        elif toks[0] == "range":
            if len(toks) != 6 or toks[2] != "," or toks[4] != ":=":
                raise ValueError(f"unsupported range: {value!r}")
            body, i = _block(parts, i + 1)
            nodes.append(("range", toks[1], toks[3], _expr(toks[5:]), body))
            i += 1
        elif len(toks) > 2 and toks[0].startswith("$") and toks[1] in (":=", "="):
            nodes.append(("set", toks[0], _expr(toks[2:]), toks[1] == ":="))
            i += 1
        else:
            nodes.append(("out", _expr(toks)))
            i += 1
    return nodes, i


def _expr(toks: list[str]) -> Any:
    """A command: one operand, or a function name followed by operands."""
    items, pos = [], 0
    while pos < len(toks):
        item, pos = _operand(toks, pos)
        items.append(item)
    if len(items) == 1:
        return items[0]
    head = items[0]
    if not (isinstance(head, tuple) and head[0] == "word"):
        raise ValueError(f"not a function call: {toks}")
    return ("call", head[1], items[1:])


def _operand(toks: list[str], pos: int) -> tuple[Any, int]:
    tok = toks[pos]
    if tok == "(":
        depth, end = 1, pos + 1
        while depth:
            depth += {"(": 1, ")": -1}.get(toks[end], 0)
            end += 1
        return _expr(toks[pos + 1:end - 1]), end
    if tok.startswith('"'):
        return ("const", ast.literal_eval(tok)), pos + 1
    if tok.isdigit():
        return ("const", int(tok)), pos + 1
    if tok.startswith("$."):
        return ("root", tok[2:]), pos + 1
    if tok.startswith("$"):
        return ("var", tok), pos + 1
    if tok.startswith("."):
        return ("field", tok[1:]), pos + 1
    if tok in ("eq", "ne", "and", "len", "slice", "print"):
        return ("word", tok), pos + 1
    raise ValueError(f"unsupported token {tok!r}")


def _truth(value: Any) -> bool:
    return bool(value)


def _eval(expr: Any, dot: Any, root: dict[str, Any], scope: list[dict[str, Any]]) -> Any:
    kind = expr[0]
    if kind == "const":
        return expr[1]
    if kind == "root":
        return root[expr[1]]
    if kind == "field":
        return dot[expr[1]]
    if kind == "var":
        for frame in reversed(scope):
            if expr[1] in frame:
                return frame[expr[1]]
        raise ValueError(f"undefined variable {expr[1]}")
    if kind == "call":
        name, args = expr[1], expr[2]
        if name == "and":  # Go's and returns the first false argument, or the last
            value = None
            for arg in args:
                value = _eval(arg, dot, root, scope)
                if not _truth(value):
                    return value
            return value
        vals = [_eval(a, dot, root, scope) for a in args]
        if name == "eq":
            return any(vals[0] == v for v in vals[1:])
        if name == "ne":
            return vals[0] != vals[1]
        if name == "len":
            return len(vals[0])
        if name == "slice":
            return vals[0][vals[1]:vals[2]] if len(vals) > 2 else vals[0][vals[1]:]
        if name == "print":
            if not all(isinstance(v, str) for v in vals):
                raise ValueError("print of non-strings is outside the subset")
            return "".join(vals)
    raise ValueError(f"cannot evaluate {expr!r}")


def _run(nodes: list[Any], dot: Any, root: dict[str, Any], scope: list[dict[str, Any]], out: list[str]) -> None:
    for node in nodes:
        kind = node[0]
        if kind == "text":
            out.append(node[1])
        elif kind == "out":
            value = _eval(node[1], dot, root, scope)
            out.append(value if isinstance(value, str) else str(value))
        elif kind == "set":
            _, name, expr, declare = node
            value = _eval(expr, dot, root, scope)
            if declare:
                scope[-1][name] = value
            else:
                for frame in reversed(scope):
                    if name in frame:
                        frame[name] = value
                        break
                else:
                    raise ValueError(f"assignment to undeclared {name}")
        elif kind == "if":
            for cond, body in node[1]:
                if _truth(_eval(cond, dot, root, scope)):
                    scope.append({})
                    _run(body, dot, root, scope, out)
                    scope.pop()
                    break
            else:
                scope.append({})
                _run(node[2], dot, root, scope, out)
                scope.pop()
        elif kind == "range":
            _, index_var, elem_var, expr, body = node
            for i, elem in enumerate(_eval(expr, dot, root, scope)):
                scope.append({index_var: i, elem_var: elem})
                _run(body, elem, root, scope, out)
                scope.pop()


def render(template: str, data: dict[str, Any]) -> str:
    """Execute ``template`` with ``data`` as dot (and ``$``)."""
    out: list[str] = []
    _run(_parse(template), data, data, [{"$": data}], out)
    return "".join(out)
