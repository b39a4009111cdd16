"""Plausible wrong answers for assignment 8.6. Each passes the public tests and is caught by a
hidden one, or by calling a function its question forbids."""

WRONG = {
    "q1": [
        # Uses the 1x1 convolution only when X and Y differ in shape: the text's two blocks
        # work, but Residual(c, use_1x1conv=True, strides=1) skips its projection.
        '''
class Residual(nn.Module):
    def __init__(self, num_channels, use_1x1conv=False, strides=1, in_channels=None):
        super().__init__()
        in_channels = num_channels if in_channels is None else in_channels
        self.conv1 = nn.Conv2d(in_channels, num_channels, kernel_size=3, padding=1,
                               stride=strides)
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm2d(num_channels)
        self.conv3 = (nn.Conv2d(in_channels, num_channels, kernel_size=1, stride=strides)
                      if use_1x1conv else None)

    def forward(self, X):
        Y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(X)))))
        if X.shape != Y.shape:
            X = self.conv3(X)
        return F.relu(Y + X)
''',
        # Keras habit: BatchNorm2d(momentum=0.9), meaning "keep 90% of the running average",
        # where PyTorch's momentum is the weight of the new batch. Training mode (all the
        # public checks run) normalises with the batch either way; evaluation mode differs.
        '''
class Residual(nn.Module):
    def __init__(self, num_channels, use_1x1conv=False, strides=1, in_channels=None):
        super().__init__()
        in_channels = num_channels if in_channels is None else in_channels
        self.conv1 = nn.Conv2d(in_channels, num_channels, kernel_size=3, padding=1,
                               stride=strides)
        self.bn1 = nn.BatchNorm2d(num_channels, momentum=0.9)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm2d(num_channels, momentum=0.9)
        self.conv3 = (nn.Conv2d(in_channels, num_channels, kernel_size=1, stride=strides)
                      if use_1x1conv else None)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3 is not None:
            X = self.conv3(X)
        return F.relu(Y + X)
''',
        # Makes the shortcut's projection a 3x3 convolution with padding 1, like the others:
        # the same output shapes (all the public projection check looks at), other weights.
        '''
class Residual(nn.Module):
    def __init__(self, num_channels, use_1x1conv=False, strides=1, in_channels=None):
        super().__init__()
        in_channels = num_channels if in_channels is None else in_channels
        self.conv1 = nn.Conv2d(in_channels, num_channels, kernel_size=3, padding=1,
                               stride=strides)
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm2d(num_channels)
        self.conv3 = (nn.Conv2d(in_channels, num_channels, kernel_size=3, padding=1,
                                stride=strides) if use_1x1conv else None)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3 is not None:
            X = self.conv3(X)
        return F.relu(Y + X)
''',
    ],
    "q2": [
        # Ignores `groups`: an ordinary 3x3 convolution in the middle. The shapes are right and
        # so is the one-group block; every grouped block has too many weights.
        '''
class ResNeXtBlock(nn.Module):
    def __init__(self, in_channels, num_channels, groups, bot_mul, use_1x1conv=False,
                 strides=1):
        super().__init__()
        bot_channels = int(round(num_channels * bot_mul))
        self.conv1 = nn.Conv2d(in_channels, bot_channels, kernel_size=1)
        self.bn1 = nn.BatchNorm2d(bot_channels)
        self.conv2 = nn.Conv2d(bot_channels, bot_channels, kernel_size=3, padding=1,
                               stride=strides)
        self.bn2 = nn.BatchNorm2d(bot_channels)
        self.conv3 = nn.Conv2d(bot_channels, num_channels, kernel_size=1)
        self.bn3 = nn.BatchNorm2d(num_channels)
        if use_1x1conv:
            self.conv4 = nn.Conv2d(in_channels, num_channels, kernel_size=1, stride=strides)
            self.bn4 = nn.BatchNorm2d(num_channels)
        else:
            self.conv4 = self.bn4 = None

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = F.relu(self.bn2(self.conv2(Y)))
        Y = self.bn3(self.conv3(Y))
        if self.conv4 is not None:
            X = self.bn4(self.conv4(X))
        return F.relu(Y + X)
''',
        # Puts the stride on the first 1x1 convolution (as the original ResNet's bottleneck
        # did) instead of the grouped 3x3 one: the same shapes, and the public block has
        # stride 1, but a strided 1x1 convolution skips pixels the 3x3 one would have read.
        '''
class ResNeXtBlock(nn.Module):
    def __init__(self, in_channels, num_channels, groups, bot_mul, use_1x1conv=False,
                 strides=1):
        super().__init__()
        bot_channels = int(round(num_channels * bot_mul))
        self.conv1 = nn.Conv2d(in_channels, bot_channels, kernel_size=1, stride=strides)
        self.bn1 = nn.BatchNorm2d(bot_channels)
        self.conv2 = nn.Conv2d(bot_channels, bot_channels, kernel_size=3, padding=1,
                               groups=groups)
        self.bn2 = nn.BatchNorm2d(bot_channels)
        self.conv3 = nn.Conv2d(bot_channels, num_channels, kernel_size=1)
        self.bn3 = nn.BatchNorm2d(num_channels)
        if use_1x1conv:
            self.conv4 = nn.Conv2d(in_channels, num_channels, kernel_size=1, stride=strides)
            self.bn4 = nn.BatchNorm2d(num_channels)
        else:
            self.conv4 = self.bn4 = None

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = F.relu(self.bn2(self.conv2(Y)))
        Y = self.bn3(self.conv3(Y))
        if self.conv4 is not None:
            X = self.bn4(self.conv4(X))
        return F.relu(Y + X)
''',
        # Keras habit again: momentum=0.9 on every batch norm. The public checks run training
        # mode only; in evaluation mode the running statistics are off.
        '''
class ResNeXtBlock(nn.Module):
    def __init__(self, in_channels, num_channels, groups, bot_mul, use_1x1conv=False,
                 strides=1):
        super().__init__()
        bot_channels = int(round(num_channels * bot_mul))
        self.conv1 = nn.Conv2d(in_channels, bot_channels, kernel_size=1)
        self.bn1 = nn.BatchNorm2d(bot_channels, momentum=0.9)
        self.conv2 = nn.Conv2d(bot_channels, bot_channels, kernel_size=3, padding=1,
                               stride=strides, groups=groups)
        self.bn2 = nn.BatchNorm2d(bot_channels, momentum=0.9)
        self.conv3 = nn.Conv2d(bot_channels, num_channels, kernel_size=1)
        self.bn3 = nn.BatchNorm2d(num_channels, momentum=0.9)
        if use_1x1conv:
            self.conv4 = nn.Conv2d(in_channels, num_channels, kernel_size=1, stride=strides)
            self.bn4 = nn.BatchNorm2d(num_channels, momentum=0.9)
        else:
            self.conv4 = self.bn4 = None

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = F.relu(self.bn2(self.conv2(Y)))
        Y = self.bn3(self.conv3(Y))
        if self.conv4 is not None:
            X = self.bn4(self.conv4(X))
        return F.relu(Y + X)
''',
    ],
    "q3": [
        # Assumes every stage doubles the channels, so the first block of a later stage gets
        # c // 2 input channels: true for ResNet-18 and ResNet-34, not for other widths.
        '''
def resnet_params(arch, in_channels=1, num_classes=10, stem_channels=64):
    def conv(c_i, c_o, k):
        return c_o * c_i * k * k + c_o

    def block(c_i, c, projection):
        total = conv(c_i, c, 3) + 2 * c + conv(c, c, 3) + 2 * c
        return total + (conv(c_i, c, 1) if projection else 0)

    total = conv(in_channels, stem_channels, 7) + 2 * stem_channels
    for i, (num_residuals, c) in enumerate(arch):
        total += block(c if i == 0 else c // 2, c, projection=i > 0)
        total += (num_residuals - 1) * block(c, c, projection=False)
    return total + arch[-1][1] * num_classes + num_classes
''',
        # Counts the stem as reading one channel, Fashion-MNIST's, whatever in_channels says:
        # the public ResNet-18 is greyscale.
        '''
def resnet_params(arch, in_channels=1, num_classes=10, stem_channels=64):
    def conv(c_i, c_o, k):
        return c_o * c_i * k * k + c_o

    def block(c_i, c, projection):
        total = conv(c_i, c, 3) + 2 * c + conv(c, c, 3) + 2 * c
        return total + (conv(c_i, c, 1) if projection else 0)

    total = conv(1, stem_channels, 7) + 2 * stem_channels
    c_prev = stem_channels
    for i, (num_residuals, c) in enumerate(arch):
        total += block(c_prev, c, projection=i > 0)
        total += (num_residuals - 1) * block(c, c, projection=False)
        c_prev = c
    return total + c_prev * num_classes + num_classes
''',
        # Builds cnnlib's ResNet on the meta device and counts: every number is right, but
        # the question says not to build the network (cnnlib.models is forbidden).
        '''
def resnet_params(arch, in_channels=1, num_classes=10, stem_channels=64):
    from cnnlib.models import resnet as lib

    with torch.device("meta"):
        net = lib.ResNet(arch, in_channels, num_classes, stem_channels=stem_channels)
    return sum(p.numel() for p in net.parameters())
''',
    ],
    "q4": [
        # "A block with zero weights outputs zero" (a): the shortcut still carries X, and the
        # final ReLU only clips its negative values.
        '''
q4_answer = {"a": False, "b": False, "c": False, "d": True}
''',
        # "Stride 2 just halves the output" (b), and "bigger images need a bigger network"
        # (c): X keeps its size on the shortcut, and global average pooling makes the head
        # independent of the image size.
        '''
q4_answer = {"a": True, "b": True, "c": True, "d": True}
''',
        # "Groups only split the work, not the weights" (d): each of the g groups reads 1/g
        # of the input channels.
        '''
q4_answer = {"a": True, "b": False, "c": False, "d": False}
''',
    ],
    "q5": [
        # Takes the 3 x 3 convolution's factor, 16, for the whole ratio: forgets the two 1 x 1
        # convolutions and the biases and batch norms.
        '''
q5_answer = {"ratio": 16.0, "reason": "A"}
''',
        # Counts only the weights, 2 * 9 * 256^2 against 256 * 64 + 9 * 64^2 + 64 * 256.
        '''
q5_answer = {"ratio": 16.9, "reason": "A"}
''',
        # Divides the channels, 256 / 64, as if parameters grew with the width alone.
        '''
q5_answer = {"ratio": 4.0, "reason": "A"}
''',
        # The right ratio, but credits the number of layers.
        '''
q5_answer = {"ratio": 16.7, "reason": "B"}
''',
    ],
}
