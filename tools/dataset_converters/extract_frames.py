"""Decode the MMI videos' frames into the frame cache that ``MMIDataset`` reads (resumable, parallel).

    python tools/dataset_converters/extract_frames.py DATA_ROOT [--cache-dir frames_cache] [--jobs 4]
        [--frame-mode middle --num-frames 3] [--all-sessions]

``DATA_ROOT`` is the MMI release as downloaded (``DATA_ROOT/Sessions/<id>/S001-001.avi`` + XML, see
``MMIDataset``). For every session whose media XML holds an Emotion value 1-6 (``--all-sessions``: every
session with a video) the frames ``MMIDataset(frame_mode=..., num_frames=...)`` labels plus the first frame (the
neutral reference of ``with_neutral=True``) are decoded with OpenCV into ``--cache-dir`` (relative to
``DATA_ROOT`` unless absolute; the reader's ``cache_dir``); ``--frame-mode all`` decodes every frame. Frames are
written atomically and a video whose frames are all cached is not opened again, so an interrupted run resumes
where it stopped; a re-downloaded (changed) video is decoded again (see ``fertools/datasets/video_frames.py``).
A video that cannot be decoded is reported on one line naming the file; the others go on and the exit status
is 1.
"""
import argparse
import os
import os.path as osp
import sys
from multiprocessing import Pool

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))  # run without installing

from fertools.datasets.mmi import mmi_expression, read_mmi_session  # noqa: E402
from fertools.datasets.reader_utils import DatasetLayoutError, select_frames  # noqa: E402
from fertools.datasets.splits import natural_key  # noqa: E402
from fertools.datasets.video_frames import VideoFrames  # noqa: E402
from fertools.utils.cli import run_main  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('data_root', help='MMI release folder (holds --sessions-dir)')
    p.add_argument('--sessions-dir', default='Sessions')
    p.add_argument('--session-file', default='session.xml')
    p.add_argument('--cache-dir', default='frames_cache', help='frame cache (MMIDataset cache_dir)')
    p.add_argument('--frame-mode', default='middle', choices=('middle', 'last', 'peak', 'all'))
    p.add_argument('--num-frames', type=int, default=3)
    p.add_argument('--all-sessions', action='store_true', help='also sessions without an Emotion value 1-6')
    p.add_argument('--jobs', type=int, default=1, help='videos decoded in parallel')
    p.add_argument('--debug', action='store_true', help='full traceback on error')
    args = p.parse_args(argv)
    if args.jobs < 1 or args.num_frames < 1:
        p.error(f'need --jobs >= 1 and --num-frames >= 1; got {args.jobs}, {args.num_frames}')
    return args


def list_videos(sessions_root: str, session_file: str, all_sessions: bool):
    """``([(session name, video path)], [error message])`` of the sessions to extract, in natural order."""
    out, errors = [], []
    for name in sorted(os.listdir(sessions_root), key=natural_key):
        sdir = osp.join(sessions_root, name)
        if name.startswith('.') or not osp.isdir(sdir):
            continue
        try:
            session = read_mmi_session(sdir, session_file)
        except (DatasetLayoutError, FileNotFoundError) as err:
            errors.append(str(err))
            continue
        if session is not None and (all_sessions or mmi_expression(session.emotion) is not None):
            out.append((name, session.video))
    return out, errors


def extract_one(task):
    """Fill the cache of one video: ``(video, 'decoded' | 'cached' | 'failed', error message or '')``.

    A video whose frame count and frames are all cached is not opened (``VideoFrames`` reads ``frames.json``)."""
    video, cache_root, frame_mode, num_frames = task
    try:
        frames = VideoFrames(video, cache_root)
        written = frames.extract(select_frames(range(frames.num_frames), frame_mode, num_frames) + [0])
        return video, 'decoded' if written else 'cached', ''
    except (OSError, ValueError) as err:  # VideoDecodeError is a ValueError; a missing file an OSError
        return video, 'failed', str(err)


def main(argv=None):
    args = parse_args(argv)
    sessions_root = osp.join(args.data_root, args.sessions_dir)
    if not osp.isdir(sessions_root):
        raise FileNotFoundError(f'sessions folder {sessions_root!r} does not exist; DATA_ROOT must be the MMI '
                                f'release folder holding {args.sessions_dir}/<session id>/S001-001.avi')
    cache_root = args.cache_dir if osp.isabs(args.cache_dir) else osp.join(args.data_root, args.cache_dir)
    videos, errors = list_videos(sessions_root, args.session_file, args.all_sessions)
    for message in errors:
        print(f'error: {message}', file=sys.stderr, flush=True)
    tasks = [(video, osp.join(cache_root, name), args.frame_mode, args.num_frames)
             for name, video in videos]
    print(f'{len(tasks)} video(s) under {sessions_root} -> {cache_root}', flush=True)
    status = {'decoded': 0, 'cached': 0, 'failed': len(errors)}
    with Pool(args.jobs) if args.jobs > 1 else _Serial() as pool:
        for k, (video, state, message) in enumerate(pool.imap_unordered(extract_one, tasks), 1):
            status[state] += 1
            if state == 'failed':
                print(f'error: {message}', file=sys.stderr, flush=True)
            if state == 'failed' or k % 20 == 0 or k == len(tasks):
                print(f'[{k}/{len(tasks)}] decoded {status["decoded"]}, already cached {status["cached"]}, '
                      f'failed {status["failed"]}', flush=True)
    return 1 if status['failed'] else 0


class _Serial:
    """``Pool``'s ``imap_unordered`` in this process (``--jobs 1``)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    @staticmethod
    def imap_unordered(func, tasks):
        return map(func, tasks)


if __name__ == '__main__':
    sys.exit(run_main(main, tool='extract_frames'))
