"""Plausible wrong answers for assignment 7.3, several per question.

Each passes the public tests and is caught by grading: it fails a hidden test, or it calls
something its question forbids (the `forbids:` list of the question's YAML).
"""

WRONG = {
    "q1": [
        # Takes the dilated kernel to span d * k cells instead of d * (k - 1) + 1: the same
        # for d = 1, and the floor hides the difference in the public stride-2 example.
        '''
def conv_output_size(n, k, p=0, s=1, d=1):
    return (n + 2 * p - d * k) // s + 1
''',
        # Counts the windows of the undilated kernel, then takes off the windows that the
        # dilation's extra (d - 1)(k - 1) cells cost, dividing that by the stride on its own:
        # exact for stride 1, and for the public dilated example, but two floors are not one.
        '''
def conv_output_size(n, k, p=0, s=1, d=1):
    return (n + 2 * p - k) // s + 1 - (d - 1) * (k - 1) // s
''',
        # Asks cnnlib.ops.conv_output_shape: right everywhere, but q1 forbids cnnlib.ops.
        '''
from cnnlib.ops import conv_output_shape


def conv_output_size(n, k, p=0, s=1, d=1):
    return conv_output_shape(n, k, p, s, d)
''',
    ],
    "q2": [
        # Reads the (h, w) settings as (width, height): the section's layers come out right
        # because their two directions give the same size, non-square outputs do not.
        '''
def conv2d_output_shape(input_size, kernel_size, padding=0, stride=1, dilation=1):
    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)

    h, w = pair(input_size)
    (kw, kh), (pw, ph), (sw, sh), (dw, dh) = (
        pair(v) for v in (kernel_size, padding, stride, dilation))
    return conv_output_size(h, kh, ph, sh, dh), conv_output_size(w, kw, pw, sw, dw)
''',
        # Takes a dilation to be one number ("the gap between taps"): a pair is cut to its
        # first entry. The public tests only dilate with an int.
        '''
def conv2d_output_shape(input_size, kernel_size, padding=0, stride=1, dilation=1):
    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)

    d = dilation if isinstance(dilation, int) else dilation[0]
    (h, w), (kh, kw), (ph, pw), (sh, sw) = (
        pair(v) for v in (input_size, kernel_size, padding, stride))
    return conv_output_size(h, kh, ph, sh, d), conv_output_size(w, kw, pw, sw, d)
''',
        # The same with the stride: the public (3, 4) stride gives 2 columns with a stride
        # of 3 as well, so only the hidden stride pairs show it.
        '''
def conv2d_output_shape(input_size, kernel_size, padding=0, stride=1, dilation=1):
    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)

    s = stride if isinstance(stride, int) else stride[0]
    (h, w), (kh, kw), (ph, pw), (dh, dw) = (
        pair(v) for v in (input_size, kernel_size, padding, dilation))
    return conv_output_size(h, kh, ph, s, dh), conv_output_size(w, kw, pw, s, dw)
''',
        # Asks cnnlib.ops.conv_output_shape instead of q1's function: right, but forbidden.
        '''
from cnnlib.ops import conv_output_shape


def conv2d_output_shape(input_size, kernel_size, padding=0, stride=1, dilation=1):
    if isinstance(input_size, int):
        input_size = (input_size, input_size)
    return tuple(conv_output_shape(input_size, kernel_size, padding, stride, dilation))
''',
    ],
    "q3": [
        # Halves the span d * k - 1 instead of d * (k - 1): right for d = 1 and d = 2 (the
        # floor rounds the extra half away), one too many from d = 3 on.
        '''
def same_padding(k, d=1):
    return (d * k - 1) // 2
''',
        # Half the kernel, rounded down, times the dilation: right for every odd kernel (the
        # public ones), half a dilation too much for an even kernel with an even dilation.
        '''
def same_padding(k, d=1):
    return (k // 2) * d
''',
    ],
    "q4": [
        # Counts only the rows left over at the end, (n + 2p - k) mod s minus the padding,
        # and misses the rows skipped between windows when the stride exceeds the kernel.
        '''
def unread_rows(n, k, p, s):
    return max(0, (n + 2 * p - k) % s - p)
''',
        # Pads on one side only when counting the windows (n + p rows instead of n + 2p):
        # the public layers read their last rows without the bottom padding's extra window.
        '''
def unread_rows(n, k, p, s):
    outputs = (n + p - k) // s + 1
    read = set()
    for o in range(outputs):
        start = o * s - p
        read.update(r for r in range(start, start + k) if 0 <= r < n)
    return n - len(read)
''',
        # A closed form: the gaps between windows, s - k rows each, plus the rows after the
        # last window. Right while every gap lies in the input, wrong when the padding is
        # wider than the kernel and a gap (or a whole window) lies partly in the padding.
        '''
def unread_rows(n, k, p, s):
    outputs = (n + 2 * p - k) // s + 1
    last_read = (outputs - 1) * s + k - p  # one past the last row the last window covers
    return max(0, s - k) * (outputs - 1) + max(0, n - last_read)
''',
        # Right rows, but lets cnnlib.ops.conv_output_shape count the windows: forbidden.
        '''
from cnnlib.ops import conv_output_shape


def unread_rows(n, k, p, s):
    read = set()
    for o in range(conv_output_shape(n, k, p, s)):
        read.update(r for r in range(o * s - p, o * s - p + k) if 0 <= r < n)
    return n - len(read)
''',
    ],
    "q5": [
        # "A stride of 2 halves the work": applies the stride to one direction only.
        '''
q5_answer = {"outputs": 2, "mult_adds": 2, "params": 1}
''',
        # Thinks the layer gets smaller too, as if the kernel shrank with the stride.
        '''
q5_answer = {"outputs": 4, "mult_adds": 4, "params": 4}
''',
        # "The kernel still reads every input value, so the work stays": fewer outputs, but
        # the same multiply-adds.
        '''
q5_answer = {"outputs": 4, "mult_adds": 1, "params": 1}
''',
    ],
    "q6": [
        # "Same padding is (k - 1) / 2 on each side, so an even kernel cannot keep the size."
        '''
q6_answer = {"a": False, "b": False, "c": True, "d": False, "e": False}
''',
        # "'same' always means the same size, whatever the stride."
        '''
q6_answer = {"a": True, "b": True, "c": True, "d": False, "e": False}
''',
        # "Padding makes the border like the interior": zero padding keeps a constant, and
        # every pixel is read as often as any other.
        '''
q6_answer = {"a": True, "b": False, "c": True, "d": True, "e": True}
''',
    ],
}
