"""fertools' user cache directory: what is built once per machine and reused by every later run.

``$FERTOOLS_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/fertools``, else ``~/.cache/fertools``. Used by the
SynthFace CLIP weights (:mod:`fertools.models.clip.pretrained_cache`: ``<cache>/clip/<config>-<hash>.pt``).
"""
import os
import os.path as osp

__all__ = ['user_cache_dir']


def user_cache_dir(*parts: str) -> str:
    """``<fertools cache>/<parts...>`` (not created; see the module docstring for the root)."""
    root = os.environ.get('FERTOOLS_CACHE_DIR') or osp.join(
        os.environ.get('XDG_CACHE_HOME') or osp.expanduser('~/.cache'), 'fertools')
    return osp.join(osp.expanduser(root), *parts)
