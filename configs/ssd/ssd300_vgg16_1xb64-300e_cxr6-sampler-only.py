# Imbalance ablation, sampler only: CXRBalancedSampler draws the images
# (negatives included, neg_fraction of the draws) and the head's loss is
# unweighted (class_weight=None: stock SSD's loss); everything else as the
# main config, which adds the class weights.
_base_ = './ssd300_vgg16_1xb64-300e_cxr6.py'

model = dict(bbox_head=dict(class_weight=None))
