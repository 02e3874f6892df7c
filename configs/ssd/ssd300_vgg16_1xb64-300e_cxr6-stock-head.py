# Imbalance ablation, no rebalancing: the stock SSDHead (no class weights)
# and mmengine's DefaultSampler over the images with boxes (mmdet's VOC
# default); everything else as the main config. The other variants:
# -sampler-only, -weights-only and the main config (both).
_base_ = './ssd300_vgg16_1xb64-300e_cxr6.py'

# the main config's head settings, as mmdet's SSDHead (no class_weight)
model = dict(
    bbox_head=dict(
        {k: v
         for k, v in _base_.model.bbox_head.items() if k != 'class_weight'},
        _delete_=True,
        type='SSDHead'))
train_dataloader = dict(
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(filter_cfg=dict(filter_empty_gt=True)))
# the main config's hooks but ClassWeightHook
custom_hooks = [
    h for h in _base_.custom_hooks if h['type'] != 'ClassWeightHook'
]
