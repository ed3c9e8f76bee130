"""A Python transcription of the harness's answer pipeline (parser.py strip_string / extract_answer /
extract_multi_choice_answer / parse_ground_truth, grader.py math_equal), written from the spec
(shared/docs/math-eval-spec.md) with Python's own `re`/float/str semantics.

It is the ANCHOR of benchmarks/eval/run.ts and a differential check of the TypeScript port's regex and
number-printing semantics. It is not the harness itself: the harness is not available offline, and its pinned
sympy 1.12 + antlr 4.11 + latex2sympy2 stack is not installed here (symbolic checks use whatever sympy is found,
parse_expr only). Reads JSON lines {"dataset", "record", "completion"} on stdin, writes {"pred", "gold", "correct"}.
"""
import json
import math
import re
import sys

try:
    import regex  # the harness uses `regex` for two patterns; `re` behaves the same on them
except ImportError:  # pragma: no cover
    regex = re

try:
    import sympy
    from sympy.parsing.sympy_parser import parse_expr
except ImportError:  # pragma: no cover
    sympy = None

# ---- word2number 1.1 -------------------------------------------------------------------------------
american_number_system = {
    'zero': 0, 'one': 1, 'two': 2, 'three': 3, 'four': 4, 'five': 5, 'six': 6, 'seven': 7, 'eight': 8, 'nine': 9,
    'ten': 10, 'eleven': 11, 'twelve': 12, 'thirteen': 13, 'fourteen': 14, 'fifteen': 15, 'sixteen': 16,
    'seventeen': 17, 'eighteen': 18, 'nineteen': 19, 'twenty': 20, 'thirty': 30, 'forty': 40, 'fifty': 50,
    'sixty': 60, 'seventy': 70, 'eighty': 80, 'ninety': 90, 'hundred': 100, 'thousand': 1000,
    'million': 1000000, 'billion': 1000000000, 'point': '.'}
decimal_words = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine']


def number_formation(number_words):
    numbers = [american_number_system[w] for w in number_words]
    if len(numbers) == 4:
        return (numbers[0] * numbers[1]) + numbers[2] + numbers[3]
    elif len(numbers) == 3:
        return numbers[0] * numbers[1] + numbers[2]
    elif len(numbers) == 2:
        if 100 in numbers:
            return numbers[0] * numbers[1]
        else:
            return numbers[0] + numbers[1]
    else:
        return numbers[0]


def get_decimal_sum(decimal_digit_words):
    decimal_number_str = []
    for dec_word in decimal_digit_words:
        if dec_word not in decimal_words:
            return 0
        else:
            decimal_number_str.append(american_number_system[dec_word])
    return float('0.' + ''.join(map(str, decimal_number_str)))


def word_to_num(number_sentence):
    number_sentence = number_sentence.replace('-', ' ').lower()
    if number_sentence.isdigit():
        return int(number_sentence)
    split_words = number_sentence.strip().split()
    clean_numbers = [w for w in split_words if w in american_number_system]
    if len(clean_numbers) == 0:
        raise ValueError("No valid number words found!")
    if (clean_numbers.count('thousand') > 1 or clean_numbers.count('million') > 1
            or clean_numbers.count('billion') > 1 or clean_numbers.count('point') > 1):
        raise ValueError("Redundant number word!")
    clean_decimal_numbers = []
    if clean_numbers.count('point') == 1:
        clean_decimal_numbers = clean_numbers[clean_numbers.index('point') + 1:]
        clean_numbers = clean_numbers[:clean_numbers.index('point')]
    billion_index = clean_numbers.index('billion') if 'billion' in clean_numbers else -1
    million_index = clean_numbers.index('million') if 'million' in clean_numbers else -1
    thousand_index = clean_numbers.index('thousand') if 'thousand' in clean_numbers else -1
    if (thousand_index > -1 and (thousand_index < million_index or thousand_index < billion_index)) or (
            million_index > -1 and million_index < billion_index):
        raise ValueError("Malformed number!")
    total_sum = 0
    if len(clean_numbers) > 0:
        if len(clean_numbers) == 1:
            total_sum += american_number_system[clean_numbers[0]]
        else:
            if billion_index > -1:
                total_sum += number_formation(clean_numbers[0:billion_index]) * 1000000000
            if million_index > -1:
                if billion_index > -1:
                    m = number_formation(clean_numbers[billion_index + 1:million_index])
                else:
                    m = number_formation(clean_numbers[0:million_index])
                total_sum += m * 1000000
            if thousand_index > -1:
                if million_index > -1:
                    t = number_formation(clean_numbers[million_index + 1:thousand_index])
                elif billion_index > -1 and million_index == -1:
                    t = number_formation(clean_numbers[billion_index + 1:thousand_index])
                else:
                    t = number_formation(clean_numbers[0:thousand_index])
                total_sum += t * 1000
            if thousand_index > -1 and thousand_index != len(clean_numbers) - 1:
                hundreds = number_formation(clean_numbers[thousand_index + 1:])
            elif million_index > -1 and million_index != len(clean_numbers) - 1:
                hundreds = number_formation(clean_numbers[million_index + 1:])
            elif billion_index > -1 and billion_index != len(clean_numbers) - 1:
                hundreds = number_formation(clean_numbers[billion_index + 1:])
            elif thousand_index == -1 and million_index == -1 and billion_index == -1:
                hundreds = number_formation(clean_numbers)
            else:
                hundreds = 0
            total_sum += hundreds
    if len(clean_decimal_numbers) > 0:
        total_sum += get_decimal_sum(clean_decimal_numbers)
    return total_sum


# ---- parser.py ---------------------------------------------------------------------------------------
def _fix_fracs(string):
    substrs = string.split("\\frac")
    new_str = substrs[0]
    if len(substrs) > 1:
        for substr in substrs[1:]:
            new_str += "\\frac"
            if len(substr) > 0 and substr[0] == "{":
                new_str += substr
            else:
                if len(substr) < 2:
                    return string
                a, b = substr[0], substr[1]
                if b != "{":
                    new_str += "{" + a + "}{" + b + "}" + substr[2:]
                else:
                    new_str += "{" + a + "}" + b + substr[2:]
    return new_str


def _fix_a_slash_b(string):
    if len(string.split("/")) != 2:
        return string
    a, b = string.split("/")
    try:
        if "sqrt" not in a:
            a = int(a)
        if "sqrt" not in b:
            b = int(b)
        assert string == "{}/{}".format(a, b)
        return "\\frac{" + str(a) + "}{" + str(b) + "}"
    except Exception:
        return string


def _fix_sqrt(string):
    return re.sub(r"\\sqrt(\w+)", r"\\sqrt{\1}", string)


def convert_word_number(text):
    try:
        text = str(word_to_num(text))
    except Exception:
        pass
    return text


unit_texts = ["east", "degree", "mph", "kmph", "ft", "m sqaure", " m east", "sq m", "deg", "mile", "q .", "monkey",
              "prime", "ratio", "profit of rs", "rd", "o", "gm", "p . m", "lb", "tile", "per", "dm", "lt", "gain",
              "ab", "way", "west", "a .", "b .", "c .", "d .", "e .", "f .", "g .", "h .", "t", "a", "h",
              "no change", "men", "soldier", "pie", "bc", "excess", "st", "inches", "noon", "percent", "by", "gal",
              "kmh", "c", "acre", "rise", "a . m", "th", "π r 2", "sq", "mark", "l", "toy", "coin", "sq . m",
              "gallon", "° f", "profit", "minw", "yr", "women", "feet", "am", "pm", "hr", "cu cm", "square",
              "v â € ™", "are", "rupee", "rounds", "cubic", "cc", "mtr", "s", "ohm", "number", "kmph", "day", "hour",
              "minute", "min", "second", "man", "woman", "sec", "cube", "mt", "sq inch", "mp", "∏ cm ³", "hectare",
              "more", "sec", "unit", "cu . m", "cm 2", "rs .", "rs", "kg", "g", "month", "km", "m", "cm", "mm",
              "apple", "liter", "loss", "yard", "pure", "year", "increase", "decrease", "d", "less", "Surface",
              "litre", "pi sq m", "s .", "metre", "meter", "inch"]
unit_texts.extend([t + "s" for t in unit_texts])


def strip_string(string):
    string = str(string).strip()
    string = string.replace("\n", "")
    string = string.rstrip(".")
    string = string.replace("\\!", "")
    string = re.sub(r"\\begin\{array\}\{.*?\}", r"\\begin{pmatrix}", string)
    string = re.sub(r"\\end\{array\}", r"\\end{pmatrix}", string)
    string = string.replace("bmatrix", "pmatrix")
    string = string.replace("tfrac", "frac").replace("dfrac", "frac")
    string = string.replace("\\left", "").replace("\\right", "")
    string = string.replace("\\{", "{").replace("\\}", "}")
    _string = re.sub(r"\\text{.*?}$", "", string).strip()
    if _string != "" and _string != string:
        string = _string
    for _ in range(2):
        for unit_text in unit_texts:
            _string = re.sub(r"(^|\W)" + unit_text + r"($|\W)", r"\1\2", string)
            if _string != "":
                string = _string
    string = string.replace("^{\\circ}", "").replace("^\\circ", "")
    string = string.replace("\\$", "").replace("$", "")
    string = convert_word_number(string)
    string = re.sub(r"\\text\{(.*?)\}", r"\1", string)
    for key in ["x=", "y=", "z=", "x\\in", "y\\in", "z\\in", "x\\to", "y\\to", "z\\to"]:
        string = string.replace(key, "")
    string = string.replace("\\emptyset", r"{}")
    string = string.replace("(-\\infty,\\infty)", "\\mathbb{R}")
    string = string.replace("\\%", "").replace("\%", "").replace("%", "")
    string = string.replace(" .", " 0.").replace("{.", "{0.")
    if string.startswith("{") and string.endswith("}") and string.isalnum() or \
            string.startswith("(") and string.endswith(")") and string.isalnum() or \
            string.startswith("[") and string.endswith("]") and string.isalnum():
        string = string[1:-1]
    string = string.replace("infinity", "\\infty")
    if "\\infty" not in string:
        string = string.replace("inf", "\\infty")
    string = string.replace("+\\inity", "\\infty")
    string = string.replace("and", "").replace("\\mathbf", "")
    string = re.sub(r"\\mbox{.*?}", "", string)
    string.replace("'", "")
    string.replace("\"", "")
    if "j" in string and "i" not in string:
        string = string.replace("j", "i")
    string = re.sub(r"(\d+)\.0*([^\d])", r"\1\2", string)
    string = re.sub(r"(\d+)\.0*$", r"\1", string)
    if len(string) == 0:
        return string
    if string[0] == ".":
        string = "0" + string
    if len(string.split("=")) == 2:
        if len(string.split("=")[0]) <= 2:
            string = string.split("=")[1]
    string = _fix_sqrt(string)
    string = string.replace(" ", "")
    string = _fix_fracs(string)
    string = _fix_a_slash_b(string)
    return string


def extract_multi_choice_answer(pred_str):
    if 'Problem:' in pred_str:
        pred_str = pred_str.split('Problem:', 1)[0]
    pred_str = pred_str.replace('choice is', 'answer is')
    patt = regex.search(r"answer is \(?(?P<ans>[abcde])\)?", pred_str.lower())
    if patt is not None:
        return patt.group('ans').upper()
    return 'placeholder'


MC = ["mmlu_stem", "sat_math", "mathqa"]


def extract_answer(pred_str, data_name):
    if data_name in MC:
        return extract_multi_choice_answer(pred_str)
    if 'final answer is $' in pred_str and '$. I hope' in pred_str:
        tmp = pred_str.split('final answer is $', 1)[1]
        pred = tmp.split('$. I hope', 1)[0].strip()
    elif 'boxed' in pred_str:
        ans = pred_str.split('boxed')[-1]
        if len(ans) == 0:
            return ""
        elif ans[0] == '{':
            stack = 1
            a = ''
            for c in ans[1:]:
                if c == '{':
                    stack += 1
                    a += c
                elif c == '}':
                    stack -= 1
                    if stack == 0:
                        break
                    a += c
                else:
                    a += c
        else:
            a = ans.split('$')[0].strip()
        pred = a
    elif 'he answer is' in pred_str:
        pred = pred_str.split('he answer is')[-1].strip()
    elif 'final answer is' in pred_str:
        pred = pred_str.split('final answer is')[-1].strip()
    else:
        pred = re.findall(r'-?\d*\.?\d+', pred_str.replace(",", ""))
        pred = pred[-1] if len(pred) >= 1 else ''
    pred = re.sub(r"\n\s*", "", pred)
    if pred != "" and pred[0] == ":":
        pred = pred[1:]
    if pred != "" and pred[-1] == ".":
        pred = pred[:-1]
    if pred != "" and pred[-1] == "/":
        pred = pred[:-1]
    return strip_string(pred)


def parse_ground_truth(example, data_name):
    if data_name in ["math", "minerva_math", "math500"]:
        gt_ans = extract_answer(example['solution'], data_name)
    elif data_name == "gsm8k":
        gt_cot, gt_ans = example['answer'].split("####")
    elif data_name == "svamp":
        gt_ans = example['Answer']
    elif data_name == "asdiv":
        gt_ans = re.sub(r"\(.*?\)", "", example['answer'])
    elif data_name == "mawps":
        gt_ans = example['target']
    elif data_name == "tabmwp":
        gt_ans = example['answer']
        if example['ans_type'] in ['integer_number', 'decimal_number']:
            if '/' in gt_ans:
                gt_ans = int(gt_ans.split('/')[0]) / int(gt_ans.split('/')[1])
            elif ',' in gt_ans:
                gt_ans = float(gt_ans.replace(',', ''))
            elif '%' in gt_ans:
                gt_ans = float(gt_ans.split('%')[0]) / 100
            else:
                gt_ans = float(gt_ans)
    elif data_name == "mathqa":
        gt_ans = example['correct'].upper()
    elif data_name == "mmlu_stem":
        gt_ans = "ABCD"[example['answer']]
    elif data_name == "sat_math":
        gt_ans = example['Answer']
    return strip_string(gt_ans)


def eval_gold(example, data_name):
    if data_name == "math":
        return extract_answer(example['solution'], data_name)
    return strip_string(parse_ground_truth(example, data_name))


# ---- grader.py --------------------------------------------------------------------------------------
def parse_digits(num):
    num = regex.sub(',', '', str(num))
    try:
        return float(num)
    except Exception:
        if num.endswith('%'):
            num = num[:-1]
            if num.endswith('\\'):
                num = num[:-1]
            try:
                return float(num) / 100
            except Exception:
                pass
    return None


def is_digit(num):
    return parse_digits(num) is not None


def str_to_pmatrix(input_str):
    input_str = input_str.strip()
    matrix_str = re.findall(r'\{.*,.*\}', input_str)
    return ', '.join(r"\begin{pmatrix}" + m.strip('{}').replace(',', '\\') + r"\end{pmatrix}" for m in matrix_str)


def numeric_equal(prediction, reference):
    return math.isclose(reference, prediction, rel_tol=1e-4)


def symbolic_equal(a, b):
    if sympy is None:
        return a == b

    def _parse(s):
        for f in [parse_expr]:
            try:
                return f(s.replace("\\\\", "\\"))
            except Exception:
                try:
                    return f(s)
                except Exception:
                    pass
        return s
    a, b = _parse(a), _parse(b)
    try:
        if str(a) == str(b) or a == b:
            return True
    except Exception:
        pass
    try:
        if a.equals(b) or sympy.simplify(a - b) == 0:
            return True
    except Exception:
        pass
    try:
        if numeric_equal(float(sympy.N(a)), float(sympy.N(b))):
            return True
    except Exception:
        pass
    return False


def math_equal(prediction, reference):
    if str(prediction) == str(reference):
        return True
    try:
        if is_digit(prediction) and is_digit(reference):
            prediction = parse_digits(prediction)
            reference = parse_digits(reference)
            for item in [reference / 100, reference, reference * 100]:
                try:
                    if numeric_equal(prediction, item):
                        return True
                except Exception:
                    continue
            return False
    except Exception:
        pass
    if not prediction and prediction not in [0, False]:
        return False
    reference = str(reference).strip()
    prediction = str(prediction).strip()
    if "pmatrix" in prediction and 'pmatrix' not in reference:
        reference = str_to_pmatrix(reference)
    pred_str, ref_str = prediction, reference
    if (prediction.startswith("[") and prediction.endswith("]") and not reference.startswith("(")) or \
            (prediction.startswith("(") and prediction.endswith(")") and not reference.startswith("[")):
        pred_str = pred_str.strip("[]()")
        ref_str = ref_str.strip("[]()")
    for s in ['{', "}", "(", ")"]:
        ref_str = ref_str.replace(s, "")
        pred_str = pred_str.replace(s, "")
    if pred_str.lower() == ref_str.lower():
        return True
    if regex.match(r'(\(|\[).+(\)|\])', prediction) is not None and \
            regex.match(r'(\(|\[).+(\)|\])', reference) is not None:
        pred_parts = prediction[1:-1].split(",")
        ref_parts = reference[1:-1].split(",")
        if len(pred_parts) == len(ref_parts):
            if all(math_equal(pred_parts[i], ref_parts[i]) for i in range(len(pred_parts))):
                return True
    if prediction.count('=') == 1 and reference.count('=') == 1:
        pred = prediction.split('=')
        pred = f"{pred[0].strip()} - ({pred[1].strip()})"
        ref = reference.split('=')
        ref = f"{ref[0].strip()} - ({ref[1].strip()})"
        if symbolic_equal(pred, ref) or symbolic_equal(f"-({pred})", ref):
            return True
    elif prediction.count('=') == 1 and len(prediction.split('=')[0].strip()) <= 2 and '=' not in reference:
        if math_equal(prediction.split('=')[1], reference):
            return True
    elif reference.count('=') == 1 and len(reference.split('=')[0].strip()) <= 2 and '=' not in prediction:
        if math_equal(prediction, reference.split('=')[1]):
            return True
    if symbolic_equal(prediction, reference):
        return True
    return False


HARNESS = {"math500": "minerva_math"}


def main():
    import time
    items = [json.loads(line) for line in sys.stdin if line.strip()]
    t0 = time.perf_counter()
    out = []
    for it in items:
        ds = it["dataset"]
        data_name = HARNESS.get(ds, ds)
        code = it["completion"].strip()
        pred = None if code == "" else strip_string(extract_answer(code, data_name))
        gold = eval_gold(it["record"], data_name)
        out.append({"pred": pred, "gold": gold, "correct": bool(math_equal(pred, gold))})
    seconds = time.perf_counter() - t0
    for o in out:
        sys.stdout.write(json.dumps(o, ensure_ascii=False) + "\n")
    sys.stderr.write(json.dumps({"seconds": seconds, "items": len(items)}) + "\n")


if __name__ == "__main__":
    main()
