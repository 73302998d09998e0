/**
 * Layouts of the protobuf blobs in Anki's schema-18 tables, as field tables for ./protobuf.ts.
 * Facts from ankitects/anki proto/anki/notetypes.proto (Notetype.Config, Notetype.Field.Config,
 * Notetype.Template.Config), decks.proto (Deck.Common, Deck.KindContainer with Deck.Normal /
 * Deck.Filtered) and deck_config.proto (DeckConfig.Config), read at 26.08.1. Names are the
 * proto names in camelCase.
 *
 * Where each blob lives: notetypes.config, fields.config, templates.config, decks.common,
 * decks.kind, deck_config.config.
 */
import type { MessageSpec } from './protobuf.js';

export const NOTETYPE_KIND_NORMAL = 0;
export const NOTETYPE_KIND_CLOZE = 1;

/** Notetype.Config.CardRequirement; kind: 0 none, 1 any, 2 all. */
const CardRequirement: MessageSpec = [
  { tag: 1, name: 'cardOrd', type: 'uint32' },
  { tag: 2, name: 'kind', type: 'enum' },
  { tag: 3, name: 'fieldOrds', type: 'uint32', repeated: true },
];

export const NotetypeConfig: MessageSpec = [
  { tag: 1, name: 'kind', type: 'enum' },
  { tag: 2, name: 'sortFieldIdx', type: 'uint32' },
  { tag: 3, name: 'css', type: 'string' },
  { tag: 4, name: 'targetDeckIdUnused', type: 'int64' },
  { tag: 5, name: 'latexPre', type: 'string' },
  { tag: 6, name: 'latexPost', type: 'string' },
  { tag: 7, name: 'latexSvg', type: 'bool' },
  { tag: 8, name: 'reqs', type: 'message', repeated: true, message: CardRequirement },
  { tag: 9, name: 'originalStockKind', type: 'enum' },
  { tag: 10, name: 'originalId', type: 'int64', optional: true },
  { tag: 255, name: 'other', type: 'bytes' },
];

export const FieldConfig: MessageSpec = [
  { tag: 1, name: 'sticky', type: 'bool' },
  { tag: 2, name: 'rtl', type: 'bool' },
  { tag: 3, name: 'fontName', type: 'string' },
  { tag: 4, name: 'fontSize', type: 'uint32' },
  { tag: 5, name: 'description', type: 'string' },
  { tag: 6, name: 'plainText', type: 'bool' },
  { tag: 7, name: 'collapsed', type: 'bool' },
  { tag: 8, name: 'excludeFromSearch', type: 'bool' },
  { tag: 9, name: 'id', type: 'int64', optional: true },
  { tag: 10, name: 'tag', type: 'uint32', optional: true },
  { tag: 11, name: 'preventDeletion', type: 'bool' },
  { tag: 255, name: 'other', type: 'bytes' },
];

export const TemplateConfig: MessageSpec = [
  { tag: 1, name: 'qFormat', type: 'string' },
  { tag: 2, name: 'aFormat', type: 'string' },
  { tag: 3, name: 'qFormatBrowser', type: 'string' },
  { tag: 4, name: 'aFormatBrowser', type: 'string' },
  { tag: 5, name: 'targetDeckId', type: 'int64' },
  { tag: 6, name: 'browserFontName', type: 'string' },
  { tag: 7, name: 'browserFontSize', type: 'uint32' },
  { tag: 8, name: 'id', type: 'int64', optional: true },
  { tag: 255, name: 'other', type: 'bytes' },
];

export const DeckCommon: MessageSpec = [
  { tag: 1, name: 'studyCollapsed', type: 'bool' },
  { tag: 2, name: 'browserCollapsed', type: 'bool' },
  { tag: 3, name: 'lastDayStudied', type: 'uint32' },
  { tag: 4, name: 'newStudied', type: 'int32' },
  { tag: 5, name: 'reviewStudied', type: 'int32' },
  { tag: 6, name: 'learningStudied', type: 'int32' },
  { tag: 7, name: 'millisecondsStudied', type: 'int32' },
  { tag: 255, name: 'other', type: 'bytes' },
];

const DayLimit: MessageSpec = [
  { tag: 1, name: 'limit', type: 'uint32' },
  { tag: 2, name: 'today', type: 'uint32' },
];

export const DeckNormal: MessageSpec = [
  { tag: 1, name: 'configId', type: 'int64' },
  { tag: 2, name: 'extendNew', type: 'uint32' },
  { tag: 3, name: 'extendReview', type: 'uint32' },
  { tag: 4, name: 'description', type: 'string' },
  { tag: 5, name: 'markdownDescription', type: 'bool' },
  { tag: 6, name: 'reviewLimit', type: 'uint32', optional: true },
  { tag: 7, name: 'newLimit', type: 'uint32', optional: true },
  { tag: 8, name: 'reviewLimitToday', type: 'message', message: DayLimit },
  { tag: 9, name: 'newLimitToday', type: 'message', message: DayLimit },
  { tag: 10, name: 'desiredRetention', type: 'float', optional: true },
];

const SearchTerm: MessageSpec = [
  { tag: 1, name: 'search', type: 'string' },
  { tag: 2, name: 'limit', type: 'uint32' },
  { tag: 3, name: 'order', type: 'enum' },
];

export const DeckFiltered: MessageSpec = [
  { tag: 1, name: 'reschedule', type: 'bool' },
  { tag: 2, name: 'searchTerms', type: 'message', repeated: true, message: SearchTerm },
  { tag: 3, name: 'delays', type: 'float', repeated: true },
  { tag: 4, name: 'previewDelay', type: 'uint32' },
  { tag: 5, name: 'previewHardSecs', type: 'uint32' },
  { tag: 6, name: 'previewGoodSecs', type: 'uint32' },
  { tag: 7, name: 'previewAgainSecs', type: 'uint32' },
];

/** decks.kind: a oneof, exactly one of normal / filtered is set. */
export const DeckKindContainer: MessageSpec = [
  { tag: 1, name: 'normal', type: 'message', message: DeckNormal },
  { tag: 2, name: 'filtered', type: 'message', message: DeckFiltered },
];

export const DeckConfigConfig: MessageSpec = [
  { tag: 1, name: 'learnSteps', type: 'float', repeated: true },
  { tag: 2, name: 'relearnSteps', type: 'float', repeated: true },
  { tag: 3, name: 'fsrsParams4', type: 'float', repeated: true },
  { tag: 4, name: 'easyDaysPercentages', type: 'float', repeated: true },
  { tag: 5, name: 'fsrsParams5', type: 'float', repeated: true },
  { tag: 6, name: 'fsrsParams6', type: 'float', repeated: true },
  { tag: 9, name: 'newPerDay', type: 'uint32' },
  { tag: 10, name: 'reviewsPerDay', type: 'uint32' },
  { tag: 11, name: 'initialEase', type: 'float' },
  { tag: 12, name: 'easyMultiplier', type: 'float' },
  { tag: 13, name: 'hardMultiplier', type: 'float' },
  { tag: 14, name: 'lapseMultiplier', type: 'float' },
  { tag: 15, name: 'intervalMultiplier', type: 'float' },
  { tag: 16, name: 'maximumReviewInterval', type: 'uint32' },
  { tag: 17, name: 'minimumLapseInterval', type: 'uint32' },
  { tag: 18, name: 'graduatingIntervalGood', type: 'uint32' },
  { tag: 19, name: 'graduatingIntervalEasy', type: 'uint32' },
  { tag: 20, name: 'newCardInsertOrder', type: 'enum' },
  { tag: 21, name: 'leechAction', type: 'enum' },
  { tag: 22, name: 'leechThreshold', type: 'uint32' },
  { tag: 23, name: 'disableAutoplay', type: 'bool' },
  { tag: 24, name: 'capAnswerTimeToSecs', type: 'uint32' },
  { tag: 25, name: 'showTimer', type: 'bool' },
  { tag: 26, name: 'skipQuestionWhenReplayingAnswer', type: 'bool' },
  { tag: 27, name: 'buryNew', type: 'bool' },
  { tag: 28, name: 'buryReviews', type: 'bool' },
  { tag: 29, name: 'buryInterdayLearning', type: 'bool' },
  { tag: 30, name: 'newMix', type: 'enum' },
  { tag: 31, name: 'interdayLearningMix', type: 'enum' },
  { tag: 32, name: 'newCardSortOrder', type: 'enum' },
  { tag: 33, name: 'reviewOrder', type: 'enum' },
  { tag: 34, name: 'newCardGatherPriority', type: 'enum' },
  { tag: 35, name: 'newPerDayMinimum', type: 'uint32' },
  { tag: 36, name: 'questionAction', type: 'enum' },
  { tag: 37, name: 'desiredRetention', type: 'float' },
  { tag: 38, name: 'stopTimerOnAnswer', type: 'bool' },
  { tag: 40, name: 'historicalRetention', type: 'float' },
  { tag: 41, name: 'secondsToShowQuestion', type: 'float' },
  { tag: 42, name: 'secondsToShowAnswer', type: 'float' },
  { tag: 43, name: 'answerAction', type: 'enum' },
  { tag: 44, name: 'waitForAudio', type: 'bool' },
  { tag: 45, name: 'paramSearch', type: 'string' },
  { tag: 46, name: 'ignoreRevlogsBeforeDate', type: 'string' },
  { tag: 255, name: 'other', type: 'bytes' },
];
