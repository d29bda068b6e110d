import { BadRequestException, Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';

export const EXAMPLE_UUID = '00000000-0000-4000-8000-000000000000';

/** A UUID path parameter, declared as `format: uuid`; anything else is a 400 naming the parameter. */
export function UuidParam(name: string): ParameterDecorator {
  const param = Param(
    name,
    new ParseUUIDPipe({ exceptionFactory: () => new BadRequestException({ message: `${name} must be a UUID`, field: name }) }),
  );
  return (target, key, index) => {
    param(target, key, index);
    // Parameter decorators run after the method exists, so the method-level OpenAPI metadata can be added here.
    // The example lets Swagger UI's "Try it out" run as pre-filled (a 404 until a real id is pasted in).
    if (key !== undefined)
      ApiParam({ name, type: String, format: 'uuid', example: EXAMPLE_UUID })(target, key, Object.getOwnPropertyDescriptor(target, key)!);
  };
}
