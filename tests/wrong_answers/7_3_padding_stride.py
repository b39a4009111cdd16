"""Plausible wrong answers for assignment 7.3. Each passes the public tests, fails a hidden one."""

WRONG = {
    # Takes the dilated kernel to span d * k cells instead of d * (k - 1) + 1: the same
    # for d = 1, and the floor hides the difference in the public stride-2 example.
    "q1": '''
def conv_output_size(n, k, p=0, s=1, d=1):
    return (n + 2 * p - d * k) // s + 1
''',
    # Reads the (h, w) settings as (width, height): the section's layers come out right
    # because their two directions give the same size, non-square outputs do not.
    "q2": '''
def conv2d_output_shape(input_size, kernel_size, padding=0, stride=1, dilation=1):
    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)

    h, w = pair(input_size)
    (kw, kh), (pw, ph), (sw, sh), (dw, dh) = (
        pair(v) for v in (kernel_size, padding, stride, dilation))
    return conv_output_size(h, kh, ph, sh, dh), conv_output_size(w, kw, pw, sw, dw)
''',
    # Halves the span d * k - 1 instead of d * (k - 1): right for d = 1 and d = 2 (the
    # floor rounds the extra half away), one too many from d = 3 on.
    "q3": '''
def same_padding(k, d=1):
    return (d * k - 1) // 2
''',
    # Counts only the rows left over at the end, (n + 2p - k) mod s minus the padding,
    # and misses the rows skipped between windows when the stride exceeds the kernel.
    "q4": '''
def unread_rows(n, k, p, s):
    return max(0, (n + 2 * p - k) % s - p)
''',
}
