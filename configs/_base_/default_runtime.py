# Runtime settings every fertools config inherits (`_base_ = [..., '../_base_/default_runtime.py']`).
default_scope = 'fertools'

# FERRunner: torchrun on CPU (gloo) or GPU (NCCL) with one command, weights-only atomic checkpoints that
# carry RNG states and dataset meta (classes, input size, mean/std), strict loading, bit-exact resume.
runner_type = 'FERRunner'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    # log_metric_by_epoch=False: iteration-based schedules log validation metrics at their iteration (MMEngine's
    # default files them under the epoch, which stays 0 in an iteration loop). Epoch-based configs set it True.
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Keeps the last 3 checkpoints; add save_best='fer/accuracy', rule='greater' to keep the best too.
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # Stops at the first NaN/Inf loss, naming the iteration and the loss term.
    nan_guard=dict(type='NaNGuardHook'),
    # Test metrics to TensorBoard / scalars.json as test/<metric> at the evaluated weights' iteration
    # (MMEngine's LoggerHook only prints them).
    test_metrics=dict(type='TestMetricsLoggerHook'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # 'auto': NCCL when CUDA is available, gloo otherwise (FERRunner resolves it).
    dist_cfg=dict(backend='auto'),
    # torch's intra-op threads. 'auto': $OMP_NUM_THREADS if set, else (CPUs - 1) // (processes on the node x
    # (1 + num_workers)): one core left to other jobs and the cores shared with the data workers, because an
    # oversubscribed thread pool made steps 4-40x slower next to another busy process (fertools/utils/threads.py).
    # An int fixes it (a dedicated machine: all its cores); None leaves torch's default (one per core).
    torch_threads='auto',
)

# TensorBoard by default (event files under work_dir/<timestamp>/vis_data). FERVisualizer: MMEngine's Visualizer
# plus confusion matrices and faces with their predicted / true class (tools/test.py --show-dir).
vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
visualizer = dict(type='FERVisualizer', vis_backends=vis_backends)

# Iteration-based schedules (the default): iteration counters in the log. An epoch-based schedule sets
# `log_processor = dict(by_epoch=True)` and checkpoint `by_epoch=True` next to its `train_cfg`.
log_processor = dict(by_epoch=False, window_size=50)
log_level = 'INFO'

load_from = None
load_from_strict = True  # a checkpoint that does not fit the model is an error; False loads what fits
resume = False

randomness = dict(seed=0, deterministic=False)
