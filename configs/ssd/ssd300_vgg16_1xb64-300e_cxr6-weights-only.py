# Imbalance ablation, class weights only: mmengine's DefaultSampler over the
# images with boxes (a uniform draw), so ClassWeightHook weights the loss by
# the inverse of the raw box counts; everything else as the main config,
# which draws with CXRBalancedSampler instead.
_base_ = './ssd300_vgg16_1xb64-300e_cxr6.py'

train_dataloader = dict(
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(filter_cfg=dict(filter_empty_gt=True)))
