# The demo's CPU schedule (make demo): the SSDLite variant with a short,
# learnable schedule on 2 CPU cores (see shared/DEMO-NOTES.md): batch 16,
# SGD lr 0.01 with 50-iteration linear warm-up and cosine decay, validation
# at the end. ReduceOnPlateau is replaced: it needs many validations to
# act, and each costs CPU minutes here.
# Two changes for a 12-epoch schedule on small lesions (median nodule ~15
# px, pleural thickening ~21 px at 300x300): smaller anchors on the first
# levels (SSDLite's start at 48 px), and no Expand/MinIoURandomCrop, which
# shrink objects up to 4x and need long schedules to pay off.
_base_ = './ssdlite_mobilenetv2-scratch_1xb64-300e_cxr6.py'

model = dict(
    bbox_head=dict(
        anchor_generator=dict(
            min_sizes=[16, 48, 100, 150, 202, 253],
            max_sizes=[48, 100, 150, 202, 253, 320])))

train_pipeline = [
    dict(type='CXRLoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(320, 320), keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='PhotoMetricDistortion',
        brightness_delta=16,
        contrast_range=(0.75, 1.25),
        saturation_range=(1.0, 1.0),
        hue_delta=0),
    dict(type='PackDetInputs')
]

max_epochs = 12
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
train_dataloader = dict(
    batch_size=16, num_workers=2, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=8, num_workers=2)
test_dataloader = val_dataloader
optim_wrapper = dict(
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
    checkpoint=dict(interval=4, save_best='coco/bbox_mAP'))
env_cfg = dict(cudnn_benchmark=False)
