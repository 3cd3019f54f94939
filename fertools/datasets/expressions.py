"""Expression names and each dataset's own label order.

The canonical names below are what SynthFace renders and what every reader maps its codes to. Each real
dataset orders (and sometimes names) its classes differently, so a dataset's ``METAINFO['classes']`` is one
of the tuples here and a checkpoint stores the tuple it was trained with (``meta.dataset_meta.classes``).
"""

#: Canonical expression names (lower-case), the vocabulary of every class tuple below.
NEUTRAL, HAPPINESS, SADNESS, SURPRISE, FEAR, DISGUST, ANGER, CONTEMPT = (
    'neutral', 'happiness', 'sadness', 'surprise', 'fear', 'disgust', 'anger', 'contempt')
BASIC_EXPRESSIONS = (NEUTRAL, HAPPINESS, SADNESS, SURPRISE, FEAR, DISGUST, ANGER)
ALL_EXPRESSIONS = BASIC_EXPRESSIONS + (CONTEMPT, )

#: RAF-DB basic: labels 1..7 in list_patition_label.txt = index + 1.
RAFDB_CLASSES = (SURPRISE, FEAR, DISGUST, HAPPINESS, SADNESS, ANGER, NEUTRAL)
#: FERPlus fer2013new.csv vote columns (before 'unknown' and 'NF').
FERPLUS_CLASSES = (NEUTRAL, HAPPINESS, SURPRISE, SADNESS, ANGER, DISGUST, FEAR, CONTEMPT)
#: FER2013 fer2013.csv 'emotion' column 0..6.
FER2013_CLASSES = (ANGER, DISGUST, FEAR, HAPPINESS, SADNESS, SURPRISE, NEUTRAL)
#: CK+ Emotion/*_emotion.txt codes 0..7 (0 = neutral, which CK+ files never contain; first frames are).
CKPLUS_CLASSES = (NEUTRAL, ANGER, CONTEMPT, DISGUST, FEAR, HAPPINESS, SADNESS, SURPRISE)
#: KDEF file-name codes, in the order fertools indexes them.
KDEF_CODES = {'AF': FEAR, 'AN': ANGER, 'DI': DISGUST, 'HA': HAPPINESS, 'NE': NEUTRAL, 'SA': SADNESS,
              'SU': SURPRISE}
KDEF_CLASSES = (FEAR, ANGER, DISGUST, HAPPINESS, NEUTRAL, SADNESS, SURPRISE)
#: Oulu-CASIA folders (six basic expressions, no neutral).
OULU_CASIA_CLASSES = (ANGER, DISGUST, FEAR, HAPPINESS, SADNESS, SURPRISE)
#: fertools' default order for SynthFace and generic data.
SYNTHFACE_CLASSES = BASIC_EXPRESSIONS

CLASS_ORDERS = {
    'synthface': SYNTHFACE_CLASSES,
    'rafdb': RAFDB_CLASSES,
    'ferplus': FERPLUS_CLASSES,
    'fer2013': FER2013_CLASSES,
    'ckplus': CKPLUS_CLASSES,
    'kdef': KDEF_CLASSES,
    'oulu_casia': OULU_CASIA_CLASSES,
}

#: Spellings seen in real annotation files and folder names → canonical name.
ALIASES = {
    'neutral': NEUTRAL, 'ne': NEUTRAL,
    'happy': HAPPINESS, 'happiness': HAPPINESS, 'ha': HAPPINESS, 'joy': HAPPINESS,
    'sad': SADNESS, 'sadness': SADNESS, 'sa': SADNESS,
    'surprise': SURPRISE, 'surprised': SURPRISE, 'su': SURPRISE,
    'fear': FEAR, 'afraid': FEAR, 'af': FEAR, 'fearful': FEAR,
    'disgust': DISGUST, 'disgusted': DISGUST, 'di': DISGUST,
    'anger': ANGER, 'angry': ANGER, 'an': ANGER,
    'contempt': CONTEMPT,
}


def canonical_expression(name: str) -> str:
    """Map a spelling of an expression (any case) to its canonical name; raise with the known ones."""
    key = name.strip().lower()
    if key not in ALIASES:
        raise KeyError(f'Unknown expression name {name!r}; known spellings: {sorted(ALIASES)}.')
    return ALIASES[key]


def resolve_classes(classes):
    """A class order given as a dataset key (``'rafdb'``) or a sequence of names → tuple of canonical names."""
    if isinstance(classes, str):
        if classes not in CLASS_ORDERS:
            raise KeyError(f'Unknown class order {classes!r}; choose one of {sorted(CLASS_ORDERS)} '
                           'or give a sequence of expression names.')
        return CLASS_ORDERS[classes]
    return tuple(canonical_expression(c) for c in classes)
