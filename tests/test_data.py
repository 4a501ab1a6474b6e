"""Tests for workbench.data: CSVs as users really save them read right, columns are found (or named), and every
mistake in the data ends in a ValueError whose sentence says what to change."""

from collections import Counter
from pathlib import Path

import pytest

from workbench.config import DataSpec
from workbench.data import LabelSpace, detect_columns, load_data, read_csv, sniff_csv


def write_bytes(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def write_text(path: Path, content: str, encoding: str = "utf-8") -> Path:
    return write_bytes(path, content.encode(encoding))


def labelled_rows(labels_and_counts: dict[str, int]) -> str:
    lines = []
    for label, count in labels_and_counts.items():
        lines += [f"a review number {i} about {label} things,{label}" for i in range(count)]
    return "text,label\n" + "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------- reading


def test_bom_semicolons_multiline_cell_and_spaced_header(tmp_path):
    content = ' Review Text ;  label \n"first line\nsecond line; still the same cell";pos\nplain review;neg\n'
    path = write_bytes(tmp_path / "excel.csv", b"\xef\xbb\xbf" + content.encode("utf-8"))

    fmt = sniff_csv(path)
    table = read_csv(path)

    assert fmt.delimiter == ";"
    assert fmt.encoding == "utf-8-sig"
    assert table.column_names == ["Review Text", "label"]  # no BOM glued to the first name, no stray spaces
    assert len(table) == 2
    assert table[0]["Review Text"] == "first line\nsecond line; still the same cell"
    assert table[0]["label"] == "pos"
    assert table[1]["label"] == "neg"


def test_tab_delimited(tmp_path):
    path = write_text(tmp_path / "data.tsv", "text\tlabel\nthe film, sadly, was bad\tneg\ngood fun\tpos\n")

    table = read_csv(path)

    assert sniff_csv(path).delimiter == "\t"
    assert table.column_names == ["text", "label"]
    assert table["text"] == ["the film, sadly, was bad", "good fun"]  # commas stay inside the cell


def test_latin1_file_reads_accents(tmp_path):
    path = write_text(
        tmp_path / "latin.csv", "text,label\nun café très agréable,pos\nune soirée ratée,neg\n", encoding="latin-1"
    )

    table = read_csv(path)

    assert sniff_csv(path).encoding == "latin-1"
    assert table["text"] == ["un café très agréable", "une soirée ratée"]


def test_a_very_long_text_cell_reads_whole(tmp_path):
    long_text = "word " * 40_000  # 200,000 characters, over the csv module's default field limit
    path = write_text(tmp_path / "long.csv", f'text,label\n"{long_text}",pos\nshort,neg\n')

    table = read_csv(path)

    assert table["text"] == [long_text, "short"]


def test_duplicate_and_blank_header_names_are_made_unique(tmp_path):
    path = write_text(tmp_path / "dup.csv", "score,score,,label\n1,2,3,a\n4,5,6,b\n")

    table = read_csv(path)

    assert table.column_names == ["score", "score_2", "column_3", "label"]
    assert table["score_2"] == ["2", "5"]  # the second column's values, not the first's again


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("empty.csv", b"", "empty"),
        ("blank.csv", b"  \n\n", "empty"),
        ("header.csv", b"text,label\n", "no data rows"),
        ("blank-rows.csv", b"text,label\n\n,\n", "no data rows"),
        ("picture.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10", "binary file, not a CSV"),
        ("book.csv", b"PK\x03\x04\x14\x00\x06\x00\x08\x00" + b"\x00" * 30, "zip or Excel workbook"),
    ],
)
def test_unreadable_files_get_a_clear_sentence(tmp_path, name, content, expected):
    path = write_bytes(tmp_path / name, content)

    with pytest.raises(ValueError, match=expected) as caught:
        read_csv(path)
    assert name in str(caught.value)  # the message names the file the user gave


def test_missing_file_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        read_csv(tmp_path / "nope.csv")


# ---------------------------------------------------------------------------------------------- detection


def test_detects_text_and_label_columns(text_csv):
    columns = detect_columns(read_csv(text_csv))

    assert columns.text == "review"
    assert columns.label == "sentiment"
    assert columns.features == ()


def test_detects_numeric_features_and_leaves_out_ids(tmp_path):
    rows = [f"{i},{1000 + i},{20 + i % 30},{i % 7}.5,{'yes' if i % 3 else 'no'}" for i in range(80)]
    path = write_text(tmp_path / "people.csv", "id,row_number,age,score,bought\n" + "\n".join(rows) + "\n")

    columns = detect_columns(read_csv(path))

    assert columns.label == "bought"
    assert columns.text is None
    assert columns.features == ("age", "score")  # neither the named id nor the running number


def test_continuous_measurement_with_distinct_values_is_a_feature(tmp_path):
    rows = [f"{20 + i % 30},{150 + i * 0.37:.2f},{'yes' if i % 3 else 'no'}" for i in range(80)]
    path = write_text(tmp_path / "people.csv", "age,height_cm,bought\n" + "\n".join(rows) + "\n")

    columns = detect_columns(read_csv(path))

    assert columns.features == ("age", "height_cm")


def test_detects_digits_features(digits_csv):
    columns = detect_columns(read_csv(digits_csv))

    assert columns.label == "digit"
    assert columns.text is None
    assert columns.features == tuple(f"px{i}" for i in range(64))


def test_overrides_match_names_case_insensitively(tmp_path):
    path = write_text(
        tmp_path / "two.csv",
        "Title,Body,Rating,Verdict\n"
        + "".join(
            f"short {i},a much longer body text number {i},{i % 5},{'ok' if i % 2 else 'bad'}\n" for i in range(20)
        ),
    )
    table = read_csv(path)

    columns = detect_columns(table, text=" title ", label="VERDICT", features=["rating"])

    assert columns == detect_columns(table, text="Title", label="Verdict", features=["Rating"])
    assert (columns.text, columns.label, columns.features) == ("Title", "Verdict", ("Rating",))


def test_misspelled_column_lists_the_real_columns(text_csv):
    table = read_csv(text_csv)

    with pytest.raises(ValueError, match="'sentimnet' is not in the file") as caught:
        detect_columns(table, label="sentimnet")
    assert "review" in str(caught.value) and "sentiment" in str(caught.value)


def test_text_feature_column_is_refused(text_csv):
    with pytest.raises(ValueError, match="'review' is not numeric"):
        detect_columns(read_csv(text_csv), label="sentiment", features=["review"])


# ---------------------------------------------------------------------------------------------- validating


def test_one_class_only_is_refused(tmp_path):
    path = write_text(tmp_path / "one.csv", labelled_rows({"pos": 10}))

    with pytest.raises(ValueError, match="only one class") as caught:
        load_data(DataSpec(path=str(path)))
    assert "'pos'" in str(caught.value)


def test_empty_labels_are_dropped_with_a_note(tmp_path):
    content = labelled_rows({"pos": 6, "neg": 6}) + "an unlabelled review,\nanother one,  \n"
    path = write_text(tmp_path / "gaps.csv", content)

    data = load_data(DataSpec(path=str(path)))

    assert len(data.train) + len(data.validation) == 12
    assert data.labels.names == ("neg", "pos")  # no empty or blank label became a class
    assert any("Dropped 2 of 14 rows" in note for note in data.notes)


def test_class_with_one_row_is_refused_by_name(tmp_path):
    path = write_text(tmp_path / "rare.csv", labelled_rows({"pos": 8, "neg": 8, "mixed": 1}))

    with pytest.raises(ValueError, match="'mixed'.*only one row"):
        load_data(DataSpec(path=str(path)))


def test_split_holds_back_the_fraction_and_keeps_both_classes(text_csv):
    data = load_data(DataSpec(path=str(text_csv), validation_fraction=0.3), seed=3)

    assert len(data.validation) == 27  # 30% of 90
    assert len(data.train) == 63
    assert sorted(Counter(data.validation["label"]).values()) == [13, 14]  # both classes, about half each


def test_the_automatic_validation_share_is_capped_on_large_data_and_a_given_one_is_kept(tmp_path):
    from engine_helpers import write_sentiment_csv

    path = write_sentiment_csv(tmp_path / "large.csv", rows=11_000, seed=0)

    assert len(load_data(DataSpec(path=str(path))).validation) == 2000  # not 20%: 2,200
    assert len(load_data(DataSpec(path=str(path), validation_fraction=0.2)).validation) == 2200


def test_stratified_split_keeps_every_class_in_both_splits(tmp_path):
    path = write_text(tmp_path / "skewed.csv", labelled_rows({"common": 60, "uncommon": 8, "rare": 2}))

    for seed in range(5):
        data = load_data(DataSpec(path=str(path), validation_fraction=0.2), seed=seed)
        train, validation = Counter(data.train["label"]), Counter(data.validation["label"])
        assert set(train) == set(validation) == {0, 1, 2}, f"seed {seed}: {train} / {validation}"
        assert sum(train.values()) + sum(validation.values()) == 70


def test_split_depends_on_the_seed_only(text_csv):
    first = load_data(DataSpec(path=str(text_csv)), seed=1)
    again = load_data(DataSpec(path=str(text_csv)), seed=1)
    other = load_data(DataSpec(path=str(text_csv)), seed=2)

    assert first.validation["text"] == again.validation["text"]
    assert first.validation["text"] != other.validation["text"]


def test_label_space_sorts_numbers_numerically():
    assert LabelSpace.from_values(["10", "2", "1", "2"]).names == ("1", "2", "10")
    assert LabelSpace.from_values(["-1", "0.5", "3"]).names == ("-1", "0.5", "3")
    assert LabelSpace.from_values(["b", "10", "a", "2"]).names == ("10", "2", "a", "b")  # mixed: as text


def test_label_space_maps_names_and_ids_both_ways():
    labels = LabelSpace.from_values(["neg", "pos", "neutral"])

    assert labels.encode(["pos", "neg"]) == [2, 0]
    assert labels.id2label == {0: "neg", 1: "neutral", 2: "pos"}
    assert labels.label2id == {"neg": 0, "neutral": 1, "pos": 2}


def test_numeric_labels_keep_numeric_order_through_loading(digits_data):
    assert digits_data.labels.names == tuple(str(d) for d in range(10))


def test_evaluation_csv_with_unseen_label_is_dropped_with_a_note(tmp_path):
    train_path = write_text(tmp_path / "train.csv", labelled_rows({"pos": 6, "neg": 6}))
    eval_path = write_text(tmp_path / "eval.csv", labelled_rows({"pos": 2, "neg": 2, "meh": 3}))

    data = load_data(DataSpec(path=str(train_path), eval_path=str(eval_path)))

    assert len(data.train) == 12  # all training rows train when an evaluation CSV is given
    assert len(data.validation) == 4
    assert set(data.validation["label"]) == {data.labels.id_of("pos"), data.labels.id_of("neg")}
    assert any("meh" in note for note in data.notes)


def test_summary_counts_every_class(text_data):
    summary = text_data.summary()

    assert summary["text_column"] == "review"
    assert summary["label_column"] == "sentiment"
    assert summary["train_rows"] + summary["validation_rows"] == 90
    assert summary["class_counts"] == {"negative": 45, "positive": 45}


def test_few_validation_rows_of_a_class_get_a_note_naming_it(tmp_path):
    path = write_text(tmp_path / "skewed.csv", labelled_rows({"pos": 200, "neg": 200, "meh": 30}))

    data = load_data(DataSpec(path=str(path)))  # 20%: 40 pos, 40 neg, 6 meh held back

    few = [note for note in data.notes if note.startswith("Few validation rows")]
    assert len(few) == 1 and "6 'meh'" in few[0] and "'pos'" not in few[0] and "'neg'" not in few[0]


def test_enough_validation_rows_everywhere_give_no_note(tmp_path):
    path = write_text(tmp_path / "even.csv", labelled_rows({"pos": 100, "neg": 100}))

    assert not [note for note in load_data(DataSpec(path=str(path))).notes if note.startswith("Few")]
