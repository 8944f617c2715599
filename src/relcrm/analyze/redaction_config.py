"""The redaction settings as a file an operator keeps: TOML, checked on load.

```toml
bare_tokens = true
template = "<{label}>"
url_token_params = ["code", "session"]

[[custom_patterns]]
label = "customer_id"
pattern = "CUST-[0-9]{6}"
```
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

from pydantic import ValidationError

from relcrm.analyze.redaction import DEFAULT_URL_TOKEN_PARAMS, RedactionConfig
from relcrm.errors import ConfigurationError, FieldProblem


def load_redaction_config(path: str | os.PathLike[str]) -> RedactionConfig:
    """The settings in ``path``; keys left out keep their safe defaults. Raises
    :class:`ConfigurationError` naming the file and each bad key."""
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigurationError(
            f"redaction settings {file}: cannot be read: {error}",
            code="config.redaction",
            hint="give a TOML file (see relcrm.analyze.redaction_config)",
        ) from None
    if "url_token_params" in data and isinstance(data["url_token_params"], list):
        data["url_token_params"] = frozenset(data["url_token_params"]) | DEFAULT_URL_TOKEN_PARAMS
    problems: list[FieldProblem] = []
    for index, item in enumerate(data.get("custom_patterns") or []):
        try:
            re.compile(str(item.get("pattern", "")) if isinstance(item, dict) else "")
        except re.error as error:
            problems.append(FieldProblem(f"custom_patterns[{index}].pattern", str(error)))
    if not problems:
        try:
            return RedactionConfig.model_validate(data)
        except ValidationError as error:
            problems = [
                FieldProblem(
                    ".".join(str(part) for part in item["loc"]) or "(file)",
                    str(item["msg"]).removeprefix("Value error, "),
                )
                for item in error.errors(include_url=False)
            ]
    raise ConfigurationError(
        f"redaction settings {file}: " + "; ".join(str(p) for p in problems),
        code="config.redaction",
        hint="fix the keys named; leave a key out to keep its default",
    )


__all__ = ["load_redaction_config"]
