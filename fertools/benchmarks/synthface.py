"""SynthFace rendering speed (faces/s): paired VIS + NIR images and 68 landmarks per face.

    python tools/benchmark.py synthface --size 112 --threads 1            # one CPU core
    python tools/benchmark.py synthface --device cuda --batch 1024 --num 16384

Renders ``--num`` distinct faces (all classes, new subjects) in batches of ``--batch`` after one warm-up
batch; prints the best and median batch rates, and on its last line ``synthface faces/s: <median>``.
"""
import statistics
import time


def add_arguments(parser):
    parser.add_argument('--size', type=int, default=112, help='image size (square), default 112')
    parser.add_argument('--threads', type=int, default=1, help='torch CPU threads, default 1')
    parser.add_argument('--device', choices=('cpu', 'cuda'), default='cpu')
    parser.add_argument('--batch', type=int, default=256, help='faces per render call, default 256')
    parser.add_argument('--num', type=int, default=2048, help='faces to time, default 2048')
    parser.add_argument('--difficulty', default='default', choices=('easy', 'default', 'hard'))
    parser.add_argument('--chunk', type=int, default=32,
                        help='faces rasterised together, default 32 (the fastest measured here)')


def run(args) -> str:
    import torch

    from fertools.datasets.synthface import SynthFaceGenerator
    torch.set_num_threads(args.threads)
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError('--device cuda: CUDA is not available on this machine; use --device cpu.')
    device = torch.device(args.device)
    gen = SynthFaceGenerator(args.size, seed=0, difficulty=args.difficulty, device=device,
                             chunk_size=args.chunk)

    def batch(start):
        ids = torch.arange(start, start + args.batch)
        return ids // 8, ids % 8, ids % 3

    def sync():
        if device.type == 'cuda':
            torch.cuda.synchronize(device)

    gen.render(*batch(10 ** 6))          # warm-up
    sync()
    rates = []
    for start in range(0, max(args.num, args.batch), args.batch):
        t = time.perf_counter()
        gen.render(*batch(start))
        sync()
        rates.append(args.batch / (time.perf_counter() - t))
    print(f'synthface {args.size}x{args.size} on {args.device} ({args.threads} thread(s)), batch {args.batch}: '
          f'best {max(rates):.1f} faces/s over {len(rates)} batches', flush=True)
    return f'synthface faces/s: {statistics.median(rates):.1f}'
