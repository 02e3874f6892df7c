# The demo's CPU schedule (make demo): the SSDLite variant with a short
# schedule for 2 CPU cores: batch 16, SGD lr 0.01 with 50-iteration linear
# warm-up and cosine decay over 28 epochs, validation at the end.
# ReduceOnPlateau is replaced: it needs many validations to act. Model,
# anchors, the SSD augmentation and ChannelsLastHook are the SSDLite
# variant's.
_base_ = './ssdlite_mobilenetv2-scratch_1xb64-300e_cxr6.py'

max_epochs = 28
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
train_dataloader = dict(batch_size=16, num_workers=2)
val_dataloader = dict(batch_size=8, num_workers=2)
test_dataloader = val_dataloader
# bf16 autocast where the CPU has native bf16, fp32 elsewhere (logged);
# tools/train.py and tools/test.py run validation and test the same way
optim_wrapper = dict(
    type='BF16OptimWrapper',
    enabled='auto',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=4e-5))
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
        end=50),
    dict(
        type='CosineAnnealingLR',
        begin=0,
        T_max=max_epochs,
        end=max_epochs,
        by_epoch=True,
        eta_min=1e-4)
]
default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(interval=7, save_best='coco/bbox_mAP'))
env_cfg = dict(cudnn_benchmark=False)
# a fixed seed: the demo's figures repeat from run to run (up to CPU
# floating-point order); --cfg-options randomness.seed=N draws another
randomness = dict(seed=0)
