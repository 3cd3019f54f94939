"""Writing a JSON file atomically, so an interrupted tool never leaves a truncated file behind: a study step's
``done.json`` (its "finished" mark, read back on resume), a prediction dump, a cache's info file."""
import json
import os
import os.path as osp
from typing import Any

__all__ = ['write_json_atomic']


def write_json_atomic(path: str, obj: Any, **dump_kwargs) -> None:
    """``json.dump(obj, **dump_kwargs)`` into a temporary file next to ``path`` (folder created if missing), then
    ``os.replace`` onto ``path``: readers see the old file or the complete new one, never a part. On an error
    (e.g. an object JSON cannot encode) ``path`` is left as it was and the temporary file is removed."""
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    tmp = f'{path}.tmp-{os.getpid()}'
    try:
        with open(tmp, 'w') as f:
            json.dump(obj, f, **dump_kwargs)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
