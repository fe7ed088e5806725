"""The study's words, defined once: hemorrhage classes, CT windows and the reader's keys.

This module imports nothing, so Django code, ``modelops.ml``, the phantoms, the exports, the
settings and the frontend's generated module (``frontend/src/generated/vocabulary.ts``, written
by ``scripts/frontend_types.py``) all take their lists from here and cannot drift apart.

Classes (the paper's codes, lower case): ``any`` is ICH of any kind, a slice or scan is
positive for it when any subtype is present; the subtypes are intraparenchymal (IPH),
intraventricular (IVH), subarachnoid (SAH), subdural (SDH) and epidural (EDH) hemorrhage.
In the database ``any`` is stored as ``any_ich`` (``any`` is a Python built-in) where it is
stored at all: a reader's slice label derives it from the subtypes.
"""

HEMORRHAGE_CLASSES: tuple[str, ...] = ("any", "iph", "ivh", "sah", "sdh", "edh")
SUBTYPES: tuple[str, ...] = HEMORRHAGE_CLASSES[1:]
# The name of ``any`` as a model field and in the ground-truth tables.
ANY_FIELD = "any_ich"
GROUND_TRUTH_FIELDS: tuple[str, ...] = (ANY_FIELD, *SUBTYPES)
# A reader's slice or scan label: the subtypes or an explicit "no hemorrhage".
NO_HEMORRHAGE = "no_hemorrhage"
LABEL_FIELDS: tuple[str, ...] = (*SUBTYPES, NO_HEMORRHAGE)

# Short names, as tables and charts head their columns.
CLASS_NAMES: dict[str, str] = {
    "any": "Any",
    "iph": "IPH",
    "ivh": "IVH",
    "sah": "SAH",
    "sdh": "SDH",
    "edh": "EDH",
}
# What each code stands for, in words.
CLASS_DESCRIPTIONS: dict[str, str] = {
    "any": "any intracranial hemorrhage",
    "iph": "intraparenchymal hemorrhage",
    "ivh": "intraventricular hemorrhage",
    "sah": "subarachnoid hemorrhage",
    "sdh": "subdural hemorrhage",
    "edh": "epidural hemorrhage",
}

# The paper's three CT windows (level, width in HU), one input channel each: blood against
# brain, a wider brain window, blood against bone (subdural and epidural).
PAPER_WINDOWS: tuple[tuple[float, float], ...] = ((50.0, 100.0), (50.0, 130.0), (150.0, 300.0))

# The reading view's window presets on keys (centre/width in HU): the paper's three windows
# (taken from PAPER_WINDOWS, so the page shows what the model sees), then brain, subdural and
# bone. A site may replace them (ICHLABEL_WINDOW_PRESETS, the same shape); the settings check
# holds them to the rules below.
WINDOW_PRESETS: tuple[dict, ...] = (
    *(
        {"key": key, "name": f"Paper {name}", "center": int(center), "width": int(width)}
        for key, name, (center, width) in zip(
            "qwe", ("narrow", "medium", "wide"), PAPER_WINDOWS, strict=True
        )
    ),
    {"key": "b", "name": "Brain", "center": 40, "width": 80},
    {"key": "s", "name": "Subdural", "center": 75, "width": 215},
    {"key": "o", "name": "Bone", "center": 600, "width": 2800},
)

# The reader's keyboard: a digit toggles a label, a letter runs an action. A window preset on
# any of these keys could never be reached.
LABEL_KEYS: dict[str, str] = {
    "0": NO_HEMORRHAGE,
    **{str(number): subtype for number, subtype in enumerate(SUBTYPES, start=1)},
}
ACTION_KEYS: dict[str, str] = {
    "c": "copy-previous",
    "u": "undo",
    "r": "reset",
    "d": "done",
    "t": "overlay",
    "h": "help",
    "?": "help",
}
READER_KEYS: frozenset[str] = frozenset(LABEL_KEYS) | frozenset(ACTION_KEYS)
