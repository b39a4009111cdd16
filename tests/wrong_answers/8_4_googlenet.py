"""Plausible wrong answers for assignment 8.4. Each passes the public tests, fails a hidden one."""

WRONG = {
    # Leaves out the ReLU after the 1x1 reductions of branches 2 and 3: the shapes, the
    # parameters and branch 1 are right, the outputs of branches 2 and 3 are not.
    "q1": '''
class Inception(nn.Module):
    def __init__(self, in_channels, c1, c2, c3, c4):
        super().__init__()
        self.b1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
        self.b2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
        self.b2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        self.b3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
        self.b3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
        self.b4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.b4_2 = nn.Conv2d(in_channels, c4, kernel_size=1)

    def forward(self, x):
        b1 = F.relu(self.b1_1(x))
        b2 = F.relu(self.b2_2(self.b2_1(x)))
        b3 = F.relu(self.b3_2(self.b3_1(x)))
        b4 = F.relu(self.b4_2(self.b4_1(x)))
        return torch.cat((b1, b2, b3, b4), dim=1)
''',
    # Counts the positions as height * height: right for the square 12 x 12 map of the text,
    # wrong for any map that is not square.
    "q2": '''
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
    # Treats every stride-2 layer as "halve, rounding down": right for multiples of 32
    # such as 64 and 96, one pixel short whenever a padded layer meets an odd side.
    "q3": '''
def stage_sides(n):
    side = n // 2 // 2
    sides = [side]
    for _ in range(3):
        side = side // 2
        sides.append(side)
    return tuple(sides)
''',
}
