"""atomic_path / write_json_atomic: the whole file or the previous one, never a part, and no temporary file left
behind."""
import json
import os
import os.path as osp

import pytest

from fertools.utils.atomic_write import atomic_path, write_json_atomic


def test_writes_the_object_and_creates_the_folder(tmp_path):
    path = tmp_path / 'step' / 'done.json'
    write_json_atomic(str(path), dict(wall_s=1.5, psnr=20.1), indent=1)
    assert json.loads(path.read_text()) == dict(wall_s=1.5, psnr=20.1)
    assert os.listdir(path.parent) == ['done.json']


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary_one(tmp_path):
    path = tmp_path / 'done.json'
    write_json_atomic(str(path), dict(ok=True))
    with pytest.raises(TypeError):
        write_json_atomic(str(path), dict(ok=True, bad=object()))  # json cannot encode it: fails mid-write
    assert json.loads(path.read_text()) == dict(ok=True)
    assert os.listdir(tmp_path) == ['done.json']


def test_atomic_path_keeps_the_extension_and_the_old_file_when_the_writer_fails(tmp_path):
    path = tmp_path / 'face.png'
    path.write_bytes(b'old')
    with pytest.raises(RuntimeError):
        with atomic_path(str(path)) as tmp:
            assert tmp.endswith('.png') and osp.dirname(tmp) == str(tmp_path)
            open(tmp, 'wb').write(b'half')
            raise RuntimeError('killed mid-write')
    assert path.read_bytes() == b'old' and os.listdir(tmp_path) == ['face.png']
    with atomic_path(str(path)) as tmp:
        open(tmp, 'wb').write(b'new')
    assert path.read_bytes() == b'new' and os.listdir(tmp_path) == ['face.png']
