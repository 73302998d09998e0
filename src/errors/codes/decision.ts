import { defineErrors } from '../define.js';

/** Errors of the decisions a person is asked to make (tray, notifications, dashboard, API). */
export const DecisionErrors = defineErrors('DECISION', {
  NOT_FOUND: {
    message: 'There is no pending decision {id}; the phone may have been unplugged or the question already answered.',
    hint: 'Read the pending decisions again (`GET /api/v1/decisions`, or the dashboard) and choose from those.',
    http: 404,
    exit: 66,
  },
  ACTION_UNKNOWN: {
    message: 'The decision {id} offers no action "{action}" (it offers: {offered}).',
    hint: 'Choose one of the offered actions.',
    http: 400,
    exit: 64,
  },
  CONFIRMATION_REQUIRED: {
    message: 'This would overwrite work: {guard}.',
    hint: 'Choose the action again with confirmation (`confirm: true`) if that is really what you want; a backup is taken first. The safe choice is "{recommended}".',
    http: 409,
    exit: 73,
  },
  IN_PROGRESS: {
    message: 'The decision {id} is already being carried out by job {job}.',
    hint: 'Wait for that job to finish (its progress is in the dashboard and `ankibridge status`).',
    http: 409,
    exit: 75,
  },
});
