import { BadRequestException } from '@nestjs/common';

/** 400 that names the offending field, e.g. {"field":"[3].timestamp"}. */
export class PayloadFieldError extends BadRequestException {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super({ statusCode: 400, error: 'Bad Request', message, field });
  }
}
