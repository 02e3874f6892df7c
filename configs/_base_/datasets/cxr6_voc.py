# Six-class chest X-ray data in the Pascal VOC layout written by
# tools/dataset_converters/prepare_data.py: data_root/VOC2007/
# {Annotations,ImageSets/Main,JPEGImages}. Images are already 300x300 PNGs.
# Training reads train.txt, validation (best checkpoint, LR plateau)
# val.txt, testing test.txt.
dataset_type = 'CXRVOCDataset'
data_root = 'data/cxr6/VOCdevkit/'
backend_args = None
img_scale = (300, 300)
# mean of mmdet's SSD300 data preprocessor (stock SSD300 augmentation)
expand_mean = [123.675, 116.28, 103.53]

train_pipeline = [
    dict(type='CXRLoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='Expand', mean=expand_mean, to_rgb=True, ratio_range=(1, 4)),
    dict(
        type='MinIoURandomCrop',
        min_ious=(0.1, 0.3, 0.5, 0.7, 0.9),
        min_crop_size=0.3),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='PhotoMetricDistortion',
        brightness_delta=32,
        contrast_range=(0.5, 1.5),
        saturation_range=(0.5, 1.5),
        hue_delta=18),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='CXRLoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        # `instances` lets CocoMetric evaluate without a COCO json;
        # `img_labels` is the image-level truth of CXRROCMetric;
        # `ignored_labels` the classes labelled without a box, whose
        # detections the metrics ignore in that image
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor', 'instances', 'img_labels',
                   'ignored_labels'))
]

train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=None,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='VOC2007/ImageSets/Main/train.txt',
        data_prefix=dict(sub_data_root='VOC2007/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=0),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='VOC2007/ImageSets/Main/val.txt',
        data_prefix=dict(sub_data_root='VOC2007/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
# the val loader over test.txt
test_dataloader = dict(
    val_dataloader,
    dataset=dict(
        val_dataloader['dataset'],
        ann_file='VOC2007/ImageSets/Main/test.txt'))

val_evaluator = [
    # COCO style: mAP@[.5:.95], mAP@.5, mAP@.75, AP and AR by object size,
    # per-class AP@[.5:.95] and AP@.5; mmdet's CocoMetric minus the JSON
    # round trip of its results, plus crowd regions for ignored_labels
    dict(
        type='CXRCocoMetric',
        ann_file=None,
        metric='bbox',
        classwise=True,
        metric_items=[
            'mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l', 'AR@100',
            'AR_s@1000', 'AR_m@1000', 'AR_l@1000'
        ],
        format_only=False,
        backend_args=backend_args),
    # the VinBigData challenge metric: VOC2010 (area) AP at IoU 0.4 on
    # continuous coordinates (mmdet's VOCMetric adds 1 px to every side)
    dict(type='CXRVOCMetric', metric='mAP', iou_thrs=[0.4], eval_mode='area'),
    # image-level per-class ROC/AUC and lesion-level FROC (LUNA16 rules)
    dict(type='CXRROCMetric'),
]
test_evaluator = val_evaluator
