# SSD512-VGG16 variant: mmdet's ssd512_coco.py model changes on top of the
# SSD300 CXR config; everything else is inherited.
_base_ = './ssd300_vgg16_1xb64-300e_cxr6.py'

input_size = 512
model = dict(
    neck=dict(
        out_channels=(512, 1024, 512, 256, 256, 256, 256),
        level_strides=(2, 2, 2, 2, 1),
        level_paddings=(1, 1, 1, 1, 1),
        last_kernel_size=4),
    bbox_head=dict(
        in_channels=(512, 1024, 512, 256, 256, 256, 256),
        anchor_generator=dict(
            type='SSDAnchorGenerator',
            scale_major=False,
            input_size=input_size,
            basesize_ratio_range=(0.1, 0.9),
            strides=[8, 16, 32, 64, 128, 256, 512],
            ratios=[[2], [2, 3], [2, 3], [2, 3], [2, 3], [2], [2]])))

# the SSD300 pipelines of _base_/datasets/cxr6_voc.py, resized to this size
train_pipeline, test_pipeline = ([
    dict(t, scale=(input_size, input_size)) if t['type'] == 'Resize' else t
    for t in pipeline
] for pipeline in (_base_.train_pipeline, _base_.test_pipeline))
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
# merged into the base test_dataloader (test.txt)
test_dataloader = val_dataloader

# mmdet's published COCO SSD512 (configs/ssd/metafile.yml): the SSD300
# checkpoint of the base does not fit the SSD512 neck
load_from = ('https://download.openmmlab.com/mmdetection/v2.0/ssd/'
             'ssd512_coco/ssd512_coco_20210803_022849-0a47a1ca.pth')
