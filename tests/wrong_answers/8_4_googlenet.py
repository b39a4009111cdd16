"""Plausible wrong answers for assignment 8.4. Each passes the public tests and is caught by a
hidden one, or by calling a function its question forbids."""

# The right layers (the factorised branch 3 too); _wide runs branch 3 after its reduction.
_INIT = '''
    def __init__(self, in_channels, c1, c2, c3, c4, factorize=False):
        super().__init__()
        self.b1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
        self.b2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
        self.b2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        self.b3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
        if factorize:
            self.b3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=3, padding=1)
            self.b3_3 = nn.Conv2d(c3[1], c3[1], kernel_size=3, padding=1)
        else:
            self.b3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
            self.b3_3 = None
        self.b4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.b4_2 = nn.Conv2d(in_channels, c4, kernel_size=1)

    def _wide(self, y):
        y = F.relu(self.b3_2(y))
        return y if self.b3_3 is None else F.relu(self.b3_3(y))
'''

WRONG = {
    "q1": [
        # Leaves out the ReLU after the 1x1 reductions of branches 2 and 3: the shapes, the
        # parameters and branch 1 are right, the outputs of branches 2 and 3 are not.
        "class Inception(nn.Module):" + _INIT + '''
    def forward(self, x):
        b1 = F.relu(self.b1_1(x))
        b2 = F.relu(self.b2_2(self.b2_1(x)))
        b3 = self._wide(self.b3_1(x))
        b4 = F.relu(self.b4_2(self.b4_1(x)))
        return torch.cat((b1, b2, b3, b4), dim=1)
''',
        # Concatenates the branches in the order 1, 3, 2, 4: the same channel count, and branch
        # 1 still comes first, which is all the public checks look at.
        "class Inception(nn.Module):" + _INIT + '''
    def forward(self, x):
        b1 = F.relu(self.b1_1(x))
        b2 = F.relu(self.b2_2(F.relu(self.b2_1(x))))
        b3 = self._wide(F.relu(self.b3_1(x)))
        b4 = F.relu(self.b4_2(self.b4_1(x)))
        return torch.cat((b1, b3, b2, b4), dim=1)
''',
        # Pools branch 4 with a 3x3 average instead of a max: no parameters, the same shapes,
        # different values in the last c4 channels.
        '''
class Inception(nn.Module):
    def __init__(self, in_channels, c1, c2, c3, c4, factorize=False):
        super().__init__()
        self.b1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
        self.b2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
        self.b2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        self.b3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
        if factorize:
            self.b3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=3, padding=1)
            self.b3_3 = nn.Conv2d(c3[1], c3[1], kernel_size=3, padding=1)
        else:
            self.b3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
            self.b3_3 = None
        self.b4_1 = nn.AvgPool2d(kernel_size=3, stride=1, padding=1)
        self.b4_2 = nn.Conv2d(in_channels, c4, kernel_size=1)

    def forward(self, x):
        b1 = F.relu(self.b1_1(x))
        b2 = F.relu(self.b2_2(F.relu(self.b2_1(x))))
        b3 = F.relu(self.b3_2(F.relu(self.b3_1(x))))
        if self.b3_3 is not None:
            b3 = F.relu(self.b3_3(b3))
        b4 = F.relu(self.b4_2(self.b4_1(x)))
        return torch.cat((b1, b2, b3, b4), dim=1)
''',
        # Factorises without a ReLU between the two 3 x 3 convolutions, as if they were one
        # 5 x 5 layer split in two: the shapes are right, the values are not.
        '''
class Inception(nn.Module):
    def __init__(self, in_channels, c1, c2, c3, c4, factorize=False):
        super().__init__()
        self.b1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
        self.b2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
        self.b2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        self.b3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
        if factorize:
            self.b3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=3, padding=1)
            self.b3_3 = nn.Conv2d(c3[1], c3[1], kernel_size=3, padding=1)
        else:
            self.b3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
            self.b3_3 = None
        self.b4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.b4_2 = nn.Conv2d(in_channels, c4, kernel_size=1)

    def forward(self, x):
        b1 = F.relu(self.b1_1(x))
        b2 = F.relu(self.b2_2(F.relu(self.b2_1(x))))
        if self.b3_3 is None:
            b3 = F.relu(self.b3_2(F.relu(self.b3_1(x))))
        else:
            b3 = F.relu(self.b3_3(self.b3_2(F.relu(self.b3_1(x)))))
        b4 = F.relu(self.b4_2(self.b4_1(x)))
        return torch.cat((b1, b2, b3, b4), dim=1)
''',
        # Keeps the reduced width through the first 3 x 3 convolution (c3[0] to c3[0]) and
        # widens only in the second: the output shape is right, the weights' shapes are not.
        "class Inception(nn.Module):" + _INIT.replace(
            "self.b3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=3, padding=1)",
            "self.b3_2 = nn.Conv2d(c3[0], c3[0], kernel_size=3, padding=1)").replace(
            "self.b3_3 = nn.Conv2d(c3[1], c3[1], kernel_size=3, padding=1)",
            "self.b3_3 = nn.Conv2d(c3[0], c3[1], kernel_size=3, padding=1)") + '''
    def forward(self, x):
        b1 = F.relu(self.b1_1(x))
        b2 = F.relu(self.b2_2(F.relu(self.b2_1(x))))
        b3 = self._wide(F.relu(self.b3_1(x)))
        b4 = F.relu(self.b4_2(self.b4_1(x)))
        return torch.cat((b1, b2, b3, b4), dim=1)
''',
    ],
    "q2": [
        # Counts the positions as height * height: right for the square 12 x 12 map of the
        # text, wrong for any map that is not square.
        '''
def inception_costs(in_channels, c1, c2, c3, c4, height, width):
    def conv(c_i, c_o, k):
        return c_o * c_i * k * k + c_o, 2 * c_o * height * height * c_i * k * k

    def chain(*convs):
        costs = [conv(*c) for c in convs]
        return sum(p for p, _ in costs), sum(f for _, f in costs)

    return {
        "b1": chain((in_channels, c1, 1)),
        "b2": chain((in_channels, c2[0], 1), (c2[0], c2[1], 3)),
        "b3": chain((in_channels, c3[0], 1), (c3[0], c3[1], 5)),
        "b4": chain((in_channels, c4, 1)),
    }
''',
        # The same slip the other way round, width * width: also invisible on a square map.
        '''
def inception_costs(in_channels, c1, c2, c3, c4, height, width):
    def conv(c_i, c_o, k):
        return c_o * c_i * k * k + c_o, 2 * c_o * width * width * c_i * k * k

    def chain(*convs):
        costs = [conv(*c) for c in convs]
        return sum(p for p, _ in costs), sum(f for _, f in costs)

    return {
        "b1": chain((in_channels, c1, 1)),
        "b2": chain((in_channels, c2[0], 1), (c2[0], c2[1], 3)),
        "b3": chain((in_channels, c3[0], 1), (c3[0], c3[1], 5)),
        "b4": chain((in_channels, c4, 1)),
    }
''',
        # Measures cnnlib's Inception with layer_costs, as the public check does: every number
        # is right, but the question asks for the formulas (cnnlib.models is forbidden).
        '''
def inception_costs(in_channels, c1, c2, c3, c4, height, width):
    from cnnlib.models import googlenet as lib
    from cnnlib.models.cost import layer_costs

    costs = {name: (0, 0) for name in ("b1", "b2", "b3", "b4")}
    block = lib.Inception(in_channels, c1, c2, c3, c4)
    for cost in layer_costs(block, (1, in_channels, height, width)):
        params, flops = costs[cost.name[:2]]
        costs[cost.name[:2]] = (params + cost.params, flops + 2 * cost.macs)
    return costs
''',
    ],
    "q3": [
        # Treats every stride-2 layer as "halve, rounding down": right for multiples of 32
        # such as 64 and 96, one pixel short whenever a padded layer meets an odd side.
        '''
def stage_sides(n):
    side = n // 2 // 2
    sides = [side]
    for _ in range(3):
        side = side // 2
        sides.append(side)
    return tuple(sides)
''',
        # Halves with round(): Python rounds x.5 to the even neighbour, so odd sides go down
        # half of the time and up the other half; the public sizes never meet an odd side.
        '''
def stage_sides(n):
    side = round(round(n / 2) / 2)
    sides = [side]
    for _ in range(3):
        side = round(side / 2)
        sides.append(side)
    return tuple(sides)
''',
        # Runs a blank image through cnnlib's GoogLeNet and reads the sizes: right, but the
        # question asks for the formula (cnnlib.models is forbidden).
        '''
def stage_sides(n):
    from cnnlib.models import googlenet as lib

    net = lib.googlenet(width_divisor=8).eval()
    X, sides = torch.zeros(1, 1, n, n), []
    with torch.no_grad():
        for stage in net.net[:4]:
            X = stage(X)
            sides.append(X.shape[-1])
    return tuple(sides)
''',
    ],
    "q4": [
        # "Pooling never changes the size of the channels it keeps, so nothing breaks" (a):
        # with stride 3 the map shrinks to a third, and torch.cat needs equal sizes.
        '''
q4_answer = {"a": False, "b": False, "c": False, "d": True}
''',
        # "Two layers hold more than one" (b), and "every convolution's channels add to the
        # output" (c): the reduction is what makes branch 2 cheaper, and only the last layer
        # of each branch reaches the concatenation.
        '''
q4_answer = {"a": True, "b": True, "c": True, "d": True}
''',
        # "The centre position sees the whole map, so the window is mostly on the map" (d):
        # 9 of 25 positions at best.
        '''
q4_answer = {"a": True, "b": False, "c": False, "d": False}
''',
    ],
}
