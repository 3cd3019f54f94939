"""Writers that lay a generated SynthFace set out on disk exactly as a real FER dataset lays out its files.

``write_layout(layout, out_dir, num_subjects=..., seed=..., image_size=...)`` renders faces with
:class:`fertools.datasets.synthface.SynthFaceGenerator` and writes them in ``layout``'s real file names,
annotation files and label codes, so each real reader (``fertools.datasets.*Dataset``) is exercised on a
tree in its real layout. It returns a dict whose ``data_root`` is what to pass as the reader's
``data_root``, plus counts and the subject lists of the written splits.

Layouts (see each writer's docstring and the matching reader's class docstring):

================  ======================================================  =====================
layout            written under ``out_dir``                               reader
================  ======================================================  =====================
``rafdb``         ``basic/EmoLabel/list_patition_label.txt``, images      ``RAFDBDataset``
``ferplus``       ``fer2013.csv``, ``fer2013new.csv``, ``FER2013*/``      ``FERPlusDataset``
``kdef``          ``KDEF/AF01/AF01AFS.JPG``                               ``KDEFDataset``
``oulu_casia``    ``OriginalImg/{NI,VL}/Strong/P001/Anger/000.jpeg``      ``OuluCASIADataset``
``ckplus``        ``CK+/{cohn-kanade-images,Emotion,Landmarks}/``         ``CKPlusDataset``
``mmi``           ``MMI/Sessions/<id>/{S001-001.avi,.xml,session.xml}``   ``MMIDataset``
``cfee``          ``CFEE/001/001_02.jpg``                                 ``CFEEDataset``
``large_hfe``     ``Large-HFE/{VIS,NIR}/001/Anger/0001.jpg``              ``LargeHFEDataset``
``folder``        ``folder/{train,test}/<expression>/S001_1.png``         ``FERFolderDataset``
``multipie``      ``Multi-PIE/data/session01/multiview/001/01/05_1/``     ``MultiPIEDataset``
================  ======================================================  =====================
"""
import numpy as np

from ._render import Renderer, make_generator
from .cfee import write_cfee
from .ckplus import write_ckplus
from .ferplus import write_ferplus
from .folder import write_folder
from .kdef import write_kdef
from .large_hfe import write_large_hfe
from .mmi import write_mmi
from .multipie import write_multipie
from .oulu_casia import write_oulu_casia
from .rafdb import write_rafdb

__all__ = ['write_layout', 'LAYOUT_WRITERS', 'Renderer']

LAYOUT_WRITERS = dict(rafdb=write_rafdb, ferplus=write_ferplus, kdef=write_kdef, oulu_casia=write_oulu_casia,
                      ckplus=write_ckplus, mmi=write_mmi, cfee=write_cfee, large_hfe=write_large_hfe,
                      folder=write_folder, multipie=write_multipie)
#: Subjects written when ``num_subjects`` is not given.
DEFAULT_SUBJECTS = dict(rafdb=20, ferplus=20, kdef=10, oulu_casia=10, ckplus=10, mmi=10, cfee=10, large_hfe=10,
                        folder=10, multipie=10)


def write_layout(layout: str, out_dir: str, num_subjects: int = None, seed: int = 0, image_size: int = 112,
                 difficulty: str = 'default', generator=None, **options) -> dict:
    """Render a SynthFace set and write it to ``out_dir`` in ``layout``'s real on-disk layout.

    Args:
        layout (str): one of :data:`LAYOUT_WRITERS`.
        out_dir (str): destination (created; existing files with the same names are overwritten).
        num_subjects (int): identities to render (default per layout, :data:`DEFAULT_SUBJECTS`).
        seed (int): generator seed and seed of every random choice of the writer (splits, votes, order).
        image_size (int): rendered face size in pixels (FERPlus is always stored at 48x48).
        difficulty (str): SynthFace difficulty preset.
        generator: an already built generator with the SynthFace ``render`` API (default: a new
            ``SynthFaceGenerator(image_size, seed, difficulty)``).
        **options: writer-specific options (e.g. ``frames_per_sequence`` for ``oulu_casia``/``ckplus``,
            ``angles`` for ``kdef``, ``png`` for ``ferplus``).

    Returns:
        dict with ``data_root`` (pass it to the reader), ``layout`` and writer-specific counts/subjects.
    """
    if layout not in LAYOUT_WRITERS:
        raise KeyError(f'Unknown layout {layout!r}; choose one of {sorted(LAYOUT_WRITERS)}.')
    num_subjects = DEFAULT_SUBJECTS[layout] if num_subjects is None else int(num_subjects)
    if num_subjects < 1:
        raise ValueError(f'num_subjects must be >= 1, got {num_subjects}.')
    if generator is None:
        generator = make_generator(image_size, seed, difficulty)
    rng = np.random.default_rng(seed)
    info = LAYOUT_WRITERS[layout](out_dir, Renderer(generator), num_subjects, rng, **options)
    info['layout'] = layout
    return info
