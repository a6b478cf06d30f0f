"""An athlete's own result: the coaches' result form, without choosing the member."""

from __future__ import annotations

from typing import Any

from gym.workouts.forms import ResultForm


class OwnResultForm(ResultForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["member"]
        del self.fields["replace"]  # an athlete's own result is theirs to correct
        for name, keyboard in (("score", "text"), ("tiebreak", "text")):
            if name in self.fields:
                # Phones: no autocorrect or capitals on a score; "CAP+15" and "5+12" need the + key.
                self.fields[name].widget.attrs.update(
                    {
                        "autocomplete": "off",
                        "autocapitalize": "characters",
                        "inputmode": keyboard,
                        "spellcheck": "false",
                    }
                )
